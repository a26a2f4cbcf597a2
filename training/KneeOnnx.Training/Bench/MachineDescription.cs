using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Training.Bench;

/// <summary>What a benchmark ran on, so its numbers are never quoted without the machine.</summary>
public static class MachineDescription
{
    public static JsonObject Current(string provider, int threads) => new()
    {
        ["cpu"] = CpuModel(),
        ["logicalCores"] = Environment.ProcessorCount,
        ["memoryGiB"] = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (double)(1L << 30), 1),
        ["os"] = RuntimeInformation.OSDescription,
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
        ["onnxRuntime"] = OrtEnv.Instance().GetVersionString(),
        ["torchSharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString(),
        ["provider"] = provider,
        ["threads"] = threads,
        ["cpuBf16"] = Precision.TrainingPrecision.CpuBf16Flag() ?? "none",
    };

    private static string CpuModel()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (File.Exists(cpuinfo))
        {
            var line = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (line is not null) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
