using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// The ONNX Runtime CUDA levers are options; what a machine without CUDA can check is that they are parsed and refused
/// exactly (ONNX Runtime itself validates them only once its CUDA provider has loaded), and that the io-binding path
/// computes what the plain run computes.
/// </summary>
public class CudaProviderOptionsTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    [Fact]
    public void TheLeversParseIntoTheProvidersOwnKeys()
    {
        var parsed = CudaProviderSettings.Parse(" cudnn_conv_algo_search=EXHAUSTIVE, prefer_nhwc=1,use_tf32=0,gpu_mem_limit=8000000000 ");
        Assert.Equal(new Dictionary<string, string>
        {
            ["cudnn_conv_algo_search"] = "EXHAUSTIVE", ["prefer_nhwc"] = "1", ["use_tf32"] = "0", ["gpu_mem_limit"] = "8000000000",
        }, parsed);
        Assert.Equal("cudnn_conv_algo_search=EXHAUSTIVE,gpu_mem_limit=8000000000,prefer_nhwc=1,use_tf32=0", CudaProviderSettings.Format(parsed));
        Assert.Empty(CudaProviderSettings.Parse(null));
    }

    [Theory]
    [InlineData("prefer_nhwc", "--cuda-options: 'prefer_nhwc' is not key=value")]
    [InlineData("prefer_nhwc=yes", "--cuda-options: prefer_nhwc must be 0 or 1, got 'yes'")]
    [InlineData("cudnn_conv_algo_search=FAST", "--cuda-options: cudnn_conv_algo_search must be one of EXHAUSTIVE, HEURISTIC, DEFAULT, got 'FAST'")]
    [InlineData("use_tf32=1,use_tf32=0", "--cuda-options: use_tf32 given twice")]
    [InlineData("gpu_mem_limit=-1", "--cuda-options: gpu_mem_limit must be a non-negative integer, got '-1'")]
    public void BadOptionsAreRefusedInOneLine(string text, string expected) =>
        Assert.Equal(expected, Assert.Throws<ArgumentException>(() => CudaProviderSettings.Parse(text)).Message);

    [Fact]
    public void AnUnknownKeyIsNamedByTheCliWithExitCode2()
    {
        var (code, _, err) = InProcessCli.Generate("info", "--model", model.Path, "--provider", "cpu", "--cuda-options", "cudnn_benchmark=1");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --cuda-options: unknown CUDA provider option 'cudnn_benchmark' (known: ", err.Trim());
        Assert.DoesNotContain('\n', err.Trim());
    }

    [Fact]
    public void IoBindingGivesTheSameNoiseAsAPlainRunBitForBit()
    {
        using var plain = KneeModel.Open(model.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var bound = KneeModel.Open(model.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu, IoBinding = true });
        using var a = new NoiseEstimator(plain);
        using var b = new NoiseEstimator(bound);
        int area = plain.Info.Channels * plain.Info.ImageSize * plain.Info.ImageSize;
        // Several calls per batch size: the bound buffers must be read afresh each time, not the first call's values.
        foreach (var (n, t, guidance) in new[] { (3, 700, 1.0), (3, 20, 1.0), (2, 400, 3.0), (3, 5, 1.0) })
        {
            var x = Enumerable.Range(0, n * area).Select(i => (float)Math.Sin(i * 0.11 + t)).ToArray();
            var expected = new float[n * area];
            var actual = new float[n * area];
            a.Predict(x, n, t, 2, guidance, expected);
            b.Predict(x, n, t, 2, guidance, actual);
            Assert.Equal(expected, actual);
        }
    }
}
