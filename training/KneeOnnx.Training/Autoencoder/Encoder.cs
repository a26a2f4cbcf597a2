using KneeOnnx.Training.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// image [N,1,H,W] in [-1,1] → the latent Gaussian's mean and log-variance, [N,2c,H/f,W/f] (mean first): conv, then per
/// level ResNet blocks and a stride-2 conv (none after the last level), two middle blocks, GroupNorm → SiLU → 3×3 conv.
/// </summary>
public sealed class Encoder : nn.Module<Tensor, Tensor>
{
    internal readonly Conv2d conv_in;
    internal readonly ModuleList<AeResBlock> blocks = new();
    internal readonly ModuleList<Downsample> down = new();
    internal readonly ModuleList<AeResBlock> mid = new();
    internal readonly GroupNorm norm_out;
    internal readonly Conv2d conv_out;
    private readonly int _blocksPerLevel;

    public Encoder(AutoencoderConfig config) : base(nameof(Encoder))
    {
        _blocksPerLevel = config.EncoderBlocks;
        var widths = config.Widths;
        conv_in = Layers.Conv3x3(1, widths[0]);
        int current = widths[0];
        for (int level = 0; level < widths.Length; level++)
        {
            for (int i = 0; i < config.EncoderBlocks; i++)
            {
                blocks.Add(new AeResBlock(current, widths[level], config.NormGroups));
                current = widths[level];
            }
            if (level < widths.Length - 1) down.Add(new Downsample(current));
        }
        mid.Add(new AeResBlock(current, current, config.NormGroups));
        mid.Add(new AeResBlock(current, current, config.NormGroups));
        norm_out = Layers.GroupNorm(config.NormGroups, current);
        conv_out = Layers.Conv3x3(current, 2 * config.LatentChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor image)
    {
        var h = Layers.Convolve(conv_in, image);
        for (int i = 0; i < blocks.Count; i++)
        {
            h = blocks[i].forward(h);
            int level = i / _blocksPerLevel;
            if ((i + 1) % _blocksPerLevel == 0 && level < down.Count) h = down[level].forward(h);
        }
        foreach (var block in mid) h = block.forward(h);
        return Layers.Convolve(conv_out, nn.functional.silu(norm_out.forward(h)));
    }
}
