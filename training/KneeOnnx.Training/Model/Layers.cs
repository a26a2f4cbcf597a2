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

    /// <summary>The libtorch we ship convolves correctly only when channel counts are multiples of this (<see cref="Convolve"/>).</summary>
    public const int ConvolutionChannelMultiple = 16;

    /// <summary>
    /// <c>conv.forward(x)</c>, computed so that the CPU libtorch 2.10 of TorchSharp 0.107 gets it right. Its oneDNN
    /// convolutions go wrong with channel counts that are not multiples of 16 (measured against a float64 convolution):
    /// with such output channels the gradient with respect to the input is off by 10–50 % (NaN now and then, read from
    /// uninitialised memory) in fp32 and bf16 alike, and the bf16 forward by 18–74 %; with such input channels the fp32
    /// forward is off by 9–12 % (17 and 33 channels: the concat U-Net's input) and the bf16 input gradient by 20–40 %,
    /// varying from run to run. So the filter bank is padded with zero filters to a multiple of 16 outputs (the extra
    /// outputs are dropped) and the input with zero channels to a multiple of 16: the same function, exact values and
    /// gradients. Aligned layers run <c>conv.forward</c> as is.
    /// </summary>
    public static Tensor Convolve(Conv2d conv, Tensor x)
    {
        var w = conv.weight!;
        long outputs = w.shape[0], inputs = w.shape[1];
        long missingOut = Missing(outputs);
        long missingIn = conv.groups == 1 ? Missing(inputs) : 0;
        if (missingOut == 0 && missingIn == 0) return conv.forward(x);
        using var scope = NewDisposeScope();
        var weight = (Tensor)w;
        if (missingIn > 0)
        {
            x = cat([x, zeros([x.shape[0], missingIn, x.shape[2], x.shape[3]], dtype: x.dtype, device: x.device)], 1);
            weight = cat([weight, zeros([outputs, missingIn, w.shape[2], w.shape[3]], dtype: w.dtype, device: w.device)], 1);
        }
        if (missingOut > 0)
            weight = cat([weight, zeros([missingOut, weight.shape[1], w.shape[2], w.shape[3]], dtype: w.dtype, device: w.device)], 0);
        var bias = conv.bias is { } b && missingOut > 0 ? cat([b, zeros(missingOut, dtype: b.dtype, device: b.device)], 0) : conv.bias;
        var y = nn.functional.conv2d(x, weight, bias, strides: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups);
        return (missingOut > 0 ? y.narrow(1, 0, outputs) : y).MoveToOuterDisposeScope();
    }

    private static long Missing(long channels) => (ConvolutionChannelMultiple - channels % ConvolutionChannelMultiple) % ConvolutionChannelMultiple;
}
