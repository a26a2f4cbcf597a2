using KneeOnnx.Training.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>The U-Net's ResNet block without a timestep: GroupNorm → SiLU → 3×3 conv, twice, plus the (1×1-projected) input.</summary>
public sealed class AeResBlock : nn.Module<Tensor, Tensor>
{
    internal readonly GroupNorm norm1;
    internal readonly Conv2d conv1;
    internal readonly GroupNorm norm2;
    internal readonly Conv2d conv2;
    internal readonly ModuleList<Conv2d> skip = new();

    public AeResBlock(int inChannels, int outChannels, int groups) : base(nameof(AeResBlock))
    {
        norm1 = Layers.GroupNorm(groups, inChannels);
        conv1 = Layers.Conv3x3(inChannels, outChannels);
        norm2 = Layers.GroupNorm(groups, outChannels);
        conv2 = Layers.Conv3x3(outChannels, outChannels);
        if (inChannels != outChannels) skip.Add(nn.Conv2d(inChannels, outChannels, kernel_size: 1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Layers.Convolve(conv1, nn.functional.silu(norm1.forward(x)));
        h = Layers.Convolve(conv2, nn.functional.silu(norm2.forward(h)));
        var shortcut = skip.Count == 0 ? x : Layers.Convolve(skip[0], x);
        return (shortcut + h).MoveToOuterDisposeScope();
    }
}
