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
}
