using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void LibTorchLoadsAndComputes()
    {
        // Fails with "doesn't contain a reference to libtorch-cpu-linux-x64" if the GLIBCXX fix-up was not applied.
        Assert.StartsWith("2.", __version__);
        using var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());
    }
}
