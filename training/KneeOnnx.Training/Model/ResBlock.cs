using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Model;

/// <summary>
/// GroupNorm → SiLU → 3×3 conv, plus the projected timestep embedding, then GroupNorm → SiLU → dropout → 3×3 conv,
/// added to the (1×1-projected when widths differ) input (Ho et al. 2020, appendix B).
/// </summary>
public sealed class ResBlock : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly GroupNorm norm1;
    internal readonly Conv2d conv1;
    internal readonly Linear time_proj;
    internal readonly GroupNorm norm2;
    internal readonly Dropout dropout;
    internal readonly Conv2d conv2;
    // Empty when input and output widths match; a list keeps the state_dict free of placeholder modules.
    internal readonly ModuleList<Conv2d> skip = new();

    public int InChannels { get; }
    public int OutChannels { get; }

    public ResBlock(int inChannels, int outChannels, int timeEmbeddingDim, int groups, double dropoutRate)
        : base(nameof(ResBlock))
    {
        InChannels = inChannels;
        OutChannels = outChannels;
        norm1 = Layers.GroupNorm(groups, inChannels);
        conv1 = Layers.Conv3x3(inChannels, outChannels);
        time_proj = nn.Linear(timeEmbeddingDim, outChannels);
        norm2 = Layers.GroupNorm(groups, outChannels);
        dropout = nn.Dropout(dropoutRate);
        conv2 = Layers.Conv3x3(outChannels, outChannels);
        if (inChannels != outChannels)
            skip.Add(nn.Conv2d(inChannels, outChannels, kernel_size: 1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor timeEmbedding)
    {
        // The conv outputs before the additions are saved by no backward node; releasing their handles at the end of
        // the block (not of the whole step) lets their storage go while the rest of the forward runs.
        using var scope = NewDisposeScope();
        var h = Layers.Convolve(conv1, nn.functional.silu(norm1.forward(x)));
        h = h + time_proj.forward(nn.functional.silu(timeEmbedding)).unsqueeze(-1).unsqueeze(-1);
        h = Layers.Convolve(conv2, dropout.forward(nn.functional.silu(norm2.forward(h))));
        var shortcut = skip.Count == 0 ? x : Layers.Convolve(skip[0], x);
        return (shortcut + h).MoveToOuterDisposeScope();
    }
}
