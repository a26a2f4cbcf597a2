using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Precision;

/// <summary>
/// The arithmetic a training run computes its forward and backward passes in. Master weights, optimiser state, EMA and
/// checkpoints are fp32 either way (<see cref="BFloat16Compute"/>), so the choice changes speed and rounding, never
/// what is saved.
/// </summary>
public static class TrainingPrecision
{
    public const string Fp32 = "fp32";
    public const string Bf16 = "bf16";
    public static readonly IReadOnlyList<string> Choices = [Fp32, Bf16];

    /// <summary>
    /// bf16 where this CPU has native bfloat16 dot products (AVX-512 BF16 or AMX): without them oneDNN emulates bf16 and
    /// runs slower than fp32. CUDA runs keep fp32 unless asked: the GPU recipe has not been measured in bf16.
    /// </summary>
    public static (string Precision, string Line) Resolve(string? requested, Device device)
    {
        if (requested is not null)
        {
            Validate(requested);
            return (requested, $"precision: {requested} (requested)");
        }
        if (device.type != DeviceType.CPU)
            return (Fp32, "precision: fp32 (default on CUDA)");
        string? flag = CpuBf16Flag();
        return flag is null
            ? (Fp32, "precision: fp32 (this CPU reports no avx512_bf16/amx_bf16; --precision bf16 would be emulated and slower)")
            : (Bf16, $"precision: bf16 compute, fp32 master weights (the CPU reports {flag}; --precision fp32 to turn off)");
    }

    public static void Validate(string precision, string option = "--precision")
    {
        if (!Choices.Contains(precision))
            throw new ArgumentException($"{option} '{precision}' is not one of {string.Join(", ", Choices)}");
    }

    /// <summary>The first bf16 instruction-set flag /proc/cpuinfo lists, or null (also off Linux).</summary>
    public static string? CpuBf16Flag()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo)) return null;
        foreach (var line in File.ReadLines(cpuinfo))
        {
            if (!line.StartsWith("flags", StringComparison.Ordinal)) continue;
            var flags = line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return new[] { "amx_bf16", "avx512_bf16" }.FirstOrDefault(flags.Contains);
        }
        return null;
    }

    public static ScalarType ScalarTypeOf(string precision) => precision == Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
}
