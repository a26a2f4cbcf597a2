using System.Runtime;
using System.Text.Json;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

/// <summary>Runs alone: another test's thread allocating while this one sits in libtorch would race whatever the GC mode.</summary>
[CollectionDefinition(nameof(TorchSharpScalarRaceTests), DisableParallelization = true)]
public sealed class TorchSharpScalarRaceCollection;

/// <summary>
/// TorchSharp 0.107 passes a temporary Scalar's handle to libtorch and frees it in a finalizer (build/TorchSharpGc.targets):
/// with concurrent GC a background collection can free it while the native call still reads it. These tests hold the
/// projects that run TorchSharp to blocking GC and show the loop that failed on a GPU box surviving under it.
/// </summary>
[Collection(nameof(TorchSharpScalarRaceTests))]
public class TorchSharpScalarRaceTests(ITestOutputHelper log)
{
    /// <summary>
    /// Tensor arithmetic interleaved with large-object allocations on the same thread, as the sampling loop does: under
    /// concurrent GC this failed within 17 full collections (26,767 additions) on the 2-core EPYC; here it must outlast
    /// 300 of them.
    /// </summary>
    [Fact]
    public void TensorArithmeticOutlastsFullCollectionsOnItsOwnThread()
    {
        using var a = ones(64);
        using var b = ones(64);
        int gen2Before = GC.CollectionCount(2);
        var timer = System.Diagnostics.Stopwatch.StartNew();
        long additions = 0;
        while (GC.CollectionCount(2) - gen2Before < 300 && timer.Elapsed < TimeSpan.FromSeconds(60))
        {
            using var sum = a + b;
            if (++additions % 50 == 0) GC.KeepAlive(new float[250_000]); // 1 MB: the large-object heap, collected with gen 2
        }
        int collections = GC.CollectionCount(2) - gen2Before;
        log.WriteLine($"{additions:N0} additions across {collections} full collections in {timer.Elapsed.TotalSeconds:F1}s; latency mode {GCSettings.LatencyMode}");
        Assert.True(collections >= 300, $"only {collections} full collections happened: the loop did not exercise the race");
    }

    /// <summary>Both processes that run TorchSharp carry the setting in their runtime configuration.</summary>
    [Theory]
    [InlineData("kneeonnx-train")]
    [InlineData("KneeOnnx.Tests")]
    public void ProcessesRunningTorchSharpUseBlockingGc(string assembly)
    {
        string path = Path.Combine(AppContext.BaseDirectory, assembly + ".runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.True(properties.TryGetProperty("System.GC.Concurrent", out var concurrent) && !concurrent.GetBoolean(),
            $"{path} does not set System.GC.Concurrent to false");
    }
}
