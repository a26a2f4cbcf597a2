using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Model;

/// <summary>Halves the side with a stride-2 3×3 convolution.</summary>
public sealed class Downsample : nn.Module<Tensor, Tensor>
{
    internal readonly Conv2d conv;

    public Downsample(int channels) : base(nameof(Downsample))
    {
        conv = Layers.Conv3x3(channels, channels, stride: 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Layers.Convolve(conv, x);
}

/// <summary>Doubles the side with nearest-neighbour upsampling followed by a 3×3 convolution (avoids checkerboard artefacts of transposed convs).</summary>
public sealed class Upsample : nn.Module<Tensor, Tensor>
{
    internal readonly Conv2d conv;

    public Upsample(int channels) : base(nameof(Upsample))
    {
        conv = Layers.Conv3x3(channels, channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) =>
        Layers.Convolve(conv, nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest));
}
