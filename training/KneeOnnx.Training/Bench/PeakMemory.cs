using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using KneeOnnx.Generation;
using KneeOnnx.Output;
using KneeOnnx.Runtime;

namespace KneeOnnx.Training.Bench;

/// <summary>
/// Peak resident memory of a generation run is a property of a whole process, so each size runs in a child process of
/// this same program (hidden verb <c>bench-generate</c>): the library's generator writing PNGs, as the inference CLI
/// does. A flat ratio between a run and one ten times longer shows nothing accumulates per image.
/// </summary>
public static class PeakMemory
{
    public const string ChildVerb = "bench-generate";
    public const string ResultPrefix = "peak-rss-bytes ";
    public const int Batch = 16;
    public const int Steps = 4;

    public static JsonObject Compare(string model, int smallCount, string workDir, TextWriter log)
    {
        long small = RunChild(model, smallCount, Path.Combine(workDir, "rss-small"));
        long large = RunChild(model, smallCount * 10, Path.Combine(workDir, "rss-large"));
        double ratio = (double)large / small;
        log.WriteLine($"peak RSS: {smallCount} images {small / 1e6:F0} MB, {smallCount * 10} images {large / 1e6:F0} MB, ratio {ratio:F3} (ddim-{Steps}, batch {Batch}, PNGs written)");
        return new JsonObject
        {
            ["smallImages"] = smallCount, ["smallBytes"] = small, ["largeImages"] = smallCount * 10, ["largeBytes"] = large,
            ["ratio"] = Math.Round(ratio, 4), ["sampler"] = $"ddim-{Steps}", ["batch"] = Batch,
        };
    }

    /// <summary>The child's work: generate <paramref name="count"/> images to <paramref name="outDir"/>, then report the peak RSS.</summary>
    public static int Child(string model, int count, string outDir, TextWriter output)
    {
        using var knee = KneeModel.Open(model, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var generator = new ImageGenerator(knee);
        var settings = new SamplerSettings { Sampler = "ddim", Steps = Steps };
        Directory.CreateDirectory(outDir);
        var plan = Enumerable.Range(0, count).Select(i => new PlannedImage(i / Batch % knee.Info.GradeNames.Count, i, $"{i:D6}.png")).ToList();
        generator.WritePlanned(plan, 1, settings, outDir, Batch);
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        output.WriteLine(ResultPrefix + self.PeakWorkingSet64.ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    private static long RunChild(string model, int count, string outDir)
    {
        string program = typeof(PeakMemory).Assembly.Location;
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { program, ChildVerb, "--model", Path.GetFullPath(model), "--count", count.ToString(CultureInfo.InvariantCulture), "--out", outDir })
            start.ArgumentList.Add(arg);
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}");
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (child.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"peak-memory child run failed (exit {child.ExitCode}): {stderr.Result.Trim()} {stdout.Trim()}");
        return long.Parse(line[ResultPrefix.Length..].Trim(), CultureInfo.InvariantCulture);
    }
}
