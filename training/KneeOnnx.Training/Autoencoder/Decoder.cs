using KneeOnnx.Training.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// latent [N,c,h,w] → image [N,1,h·f,w·f] (unbounded; [-1,1] is where training pulls it): the encoder mirrored, with
/// more blocks per level, nearest-neighbour upsampling + conv between levels, and the output convolution.
/// </summary>
public sealed class Decoder : nn.Module<Tensor, Tensor>
{
    internal readonly Conv2d conv_in;
    internal readonly ModuleList<AeResBlock> mid = new();
    internal readonly ModuleList<AeResBlock> blocks = new();
    internal readonly ModuleList<Model.Upsample> up = new();
    internal readonly GroupNorm norm_out;
    internal readonly Conv2d conv_out;
    private readonly int _blocksPerLevel;

    public Decoder(AutoencoderConfig config) : base(nameof(Decoder))
    {
        _blocksPerLevel = config.DecoderBlocks;
        var widths = config.DecoderLevelWidths;
        int current = widths[^1];
        conv_in = Layers.Conv3x3(config.LatentChannels, current);
        mid.Add(new AeResBlock(current, current, config.NormGroups));
        mid.Add(new AeResBlock(current, current, config.NormGroups));
        for (int level = widths.Length - 1; level >= 0; level--)
        {
            for (int i = 0; i < config.DecoderBlocks; i++)
            {
                blocks.Add(new AeResBlock(current, widths[level], config.NormGroups));
                current = widths[level];
            }
            if (level > 0) up.Add(new Model.Upsample(current));
        }
        norm_out = Layers.GroupNorm(config.NormGroups, current);
        conv_out = Layers.Conv3x3(current, 1);
        RegisterComponents();
    }

    /// <summary>The convolution whose weight the adaptive adversarial weight is measured at (Esser et al. 2021).</summary>
    public Parameter LastLayerWeight => conv_out.weight!;

    public override Tensor forward(Tensor latent)
    {
        var h = Layers.Convolve(conv_in, latent);
        foreach (var block in mid) h = block.forward(h);
        for (int i = 0; i < blocks.Count; i++)
        {
            h = blocks[i].forward(h);
            int level = i / _blocksPerLevel;
            if ((i + 1) % _blocksPerLevel == 0 && level < up.Count) h = up[level].forward(h);
        }
        return Layers.Convolve(conv_out, nn.functional.silu(norm_out.forward(h)));
    }
}
