using KneeOnnx.Training.Model;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>
/// The convolution the networks use, against the same convolution computed in float64 (libtorch's separate double
/// kernel): output and gradient with respect to the input. The shipped CPU libtorch gets the input gradient wrong when
/// the output channels are not a multiple of 16, which <see cref="Layers.Convolve"/> works around.
/// </summary>
public class ConvolutionTests(ITestOutputHelper log)
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 1)]
    [InlineData(24, 1)]
    [InlineData(8, 2)]
    [InlineData(32, 1)]
    public void ConvolveMatchesAFloat64ConvolutionInValueAndInputGradient(int outputs, int stride)
    {
        set_num_threads(2);
        manual_seed(outputs * 10 + stride);
        var conv = Layers.Conv3x3(32, outputs, stride);
        double worstValue = 0, worstGradient = 0;
        for (int trial = 0; trial < 4; trial++) // the wrong gradient came from uninitialised memory: one try can be lucky
        {
            var x = randn(16, 32, 64, 64).requires_grad_(true);
            var y = Layers.Convolve(conv, x);
            y.square().mean().backward();
            var xd = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
            var yd = nn.functional.conv2d(xd, conv.weight!.detach().to_type(ScalarType.Float64), conv.bias!.detach().to_type(ScalarType.Float64),
                strides: [stride, stride], padding: [1, 1]);
            yd.square().mean().backward();
            worstValue = Math.Max(worstValue, Relative(y.detach(), yd.detach()));
            worstGradient = Math.Max(worstGradient, Relative(x.grad!, xd.grad!));
        }
        log.WriteLine($"{outputs} outputs, stride {stride}: value {worstValue:G3}, input gradient {worstGradient:G3} (relative to the largest)");
        Assert.True(worstValue < 1e-5, $"value off by {worstValue:G3}");
        Assert.True(worstGradient < 1e-5, $"input gradient off by {worstGradient:G3}");
    }

    /// <summary>The concat U-Net's first layer (1 + 32 grade channels in): libtorch's own fp32 forward was 9 % off.</summary>
    [Theory]
    [InlineData(33, 32)]
    [InlineData(17, 32)]
    public void ConvolveWithUnalignedInputsMatchesFloat64(int inputs, int outputs)
    {
        set_num_threads(2);
        manual_seed(inputs);
        var conv = Layers.Conv3x3(inputs, outputs);
        double worst = 0;
        for (int trial = 0; trial < 3; trial++)
        {
            var x = randn(3, inputs, 32, 32).requires_grad_(true);
            var y = Layers.Convolve(conv, x);
            var upstream = randn(y.shape);
            y.backward([upstream]);
            var xd = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
            var yd = nn.functional.conv2d(xd, conv.weight!.detach().to_type(ScalarType.Float64), conv.bias!.detach().to_type(ScalarType.Float64), padding: [1, 1]);
            yd.backward([upstream.to_type(ScalarType.Float64)]);
            worst = Math.Max(worst, Math.Max(Relative(y.detach(), yd.detach()), Relative(x.grad!, xd.grad!)));
        }
        log.WriteLine($"{inputs} → {outputs} channels, fp32: worst of value and input gradient {worst:G3}");
        Assert.True(worst < 1e-5, $"off by {worst:G3}");
    }

    [Fact]
    public void ConvolveInBf16IsWithinBf16RoundingOfFloat64()
    {
        set_num_threads(2);
        manual_seed(3);
        var conv = Layers.Conv3x3(32, 1);
        var half = Layers.Conv3x3(32, 1);
        half.load_state_dict(conv.state_dict());
        half.to(ScalarType.BFloat16);
        var x = randn(8, 32, 32, 32);
        var y = Layers.Convolve(half, x.to_type(ScalarType.BFloat16)).to_type(ScalarType.Float64);
        var yd = nn.functional.conv2d(x.to_type(ScalarType.Float64), conv.weight!.detach().to_type(ScalarType.Float64), conv.bias!.detach().to_type(ScalarType.Float64), padding: [1, 1]);
        double error = Relative(y, yd);
        log.WriteLine($"bf16 one-channel convolution: {error:G3} relative to the largest output");
        // Inputs and weights rounded to 8 significant bits (2⁻⁹ relative each) over a 288-term sum: well under 2 %.
        Assert.True(error < 0.02, $"bf16 convolution off by {error:G3}");
    }

    /// <summary>
    /// bf16 input gradients of layers whose inputs are 1 (an image), 3 (ResNet's BGR) or 4 (a latent) channels: the
    /// critic's and the perceptual network's first layers hand them to the decoder, the decoder's first layer to the
    /// encoder. libtorch's own gave 20–40 % errors here; bf16 rounding allows about 1 %.
    /// </summary>
    [Theory]
    [InlineData(1, 64, 4, 2, 1)]
    [InlineData(3, 64, 7, 2, 0)]
    [InlineData(4, 256, 3, 1, 1)]
    public void ConvolveInBf16GivesTheInputGradientOfFloat64(int inputs, int outputs, int kernel, int stride, int padding)
    {
        set_num_threads(2);
        manual_seed(inputs);
        var conv = nn.Conv2d(inputs, outputs, kernel_size: kernel, stride: stride, padding: (long)padding);
        var half = nn.Conv2d(inputs, outputs, kernel_size: kernel, stride: stride, padding: (long)padding);
        half.load_state_dict(conv.state_dict());
        half.to(ScalarType.BFloat16);
        var x = randn(8, inputs, 32, 32);
        var xb = x.to_type(ScalarType.BFloat16).detach().requires_grad_(true);
        var y = Layers.Convolve(half, xb);
        var upstream = randn(y.shape);
        y.backward([upstream.to_type(ScalarType.BFloat16)]);
        var xd = x.to_type(ScalarType.Float64).detach().requires_grad_(true);
        nn.functional.conv2d(xd, conv.weight!.detach().to_type(ScalarType.Float64), conv.bias!.detach().to_type(ScalarType.Float64),
            strides: [stride, stride], padding: [padding, padding]).backward([upstream.to_type(ScalarType.Float64)]);
        double error = Relative(xb.grad!, xd.grad!);
        log.WriteLine($"bf16 input gradient, {inputs} → {outputs} channels, {kernel}×{kernel}/{stride}: {error:G3}");
        Assert.True(error < 0.02, $"bf16 input gradient off by {error:G3}");
    }

    private static double Relative(Tensor a, Tensor reference) =>
        ((a.to_type(ScalarType.Float64) - reference).abs().max() / reference.abs().max()).item<double>();
}
