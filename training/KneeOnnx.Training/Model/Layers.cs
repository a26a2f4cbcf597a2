using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Model;

/// <summary>Layer factories that fix TorchSharp defaults we cannot rely on.</summary>
internal static class Layers
{
    /// <summary>
    /// TorchSharp 0.107's GroupNorm leaves its affine weight and bias uninitialised (garbage memory, NaN losses);
    /// set them to PyTorch's documented defaults, 1 and 0.
    /// </summary>
    public static GroupNorm GroupNorm(int groups, int channels)
    {
        var norm = nn.GroupNorm(groups, channels, eps: 1e-5);
        using (no_grad())
        {
            nn.init.ones_(norm.weight!);
            nn.init.zeros_(norm.bias!);
        }
        return norm;
    }

    public static Conv2d Conv3x3(int inChannels, int outChannels, int stride = 1) =>
        nn.Conv2d(inChannels, outChannels, kernel_size: 3, stride: stride, padding: 1);

    /// <summary>The libtorch we ship convolves correctly only when the output channels are a multiple of this (<see cref="Convolve"/>).</summary>
    public const int ConvolutionChannelMultiple = 16;

    /// <summary>
    /// <c>conv.forward(x)</c>, computed so that the CPU libtorch 2.10 of TorchSharp 0.107 gets it right. Its convolution
    /// kernels go wrong when the output channels are not a multiple of 16: the gradient with respect to the input is off
    /// by 10–50 % of its size (NaN now and then, read from uninitialised memory) in fp32 and bf16 alike, and the bf16
    /// forward is off by 18–74 % (measured with 1, 2, 4, 8, 12, 20, 24 and 40 channels against a float64 convolution;
    /// 16, 32, 48, 64 … agree to rounding). So the filter bank is padded with zero filters to a multiple of 16 and the
    /// extra outputs are dropped: the same function, exact gradients. A U-Net's one-channel output convolution, an
    /// encoder's latent head and any odd-width layer go through here.
    /// </summary>
    public static Tensor Convolve(Conv2d conv, Tensor x)
    {
        var w = conv.weight!;
        long outputs = w.shape[0], missing = (ConvolutionChannelMultiple - outputs % ConvolutionChannelMultiple) % ConvolutionChannelMultiple;
        if (missing == 0) return conv.forward(x);
        using var scope = NewDisposeScope();
        var weight = cat([w, zeros([missing, w.shape[1], w.shape[2], w.shape[3]], dtype: w.dtype, device: w.device)], 0);
        var bias = conv.bias is { } b ? cat([b, zeros(missing, dtype: b.dtype, device: b.device)], 0) : null;
        var y = nn.functional.conv2d(x, weight, bias, strides: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups);
        return y.narrow(1, 0, outputs).MoveToOuterDisposeScope();
    }
}
