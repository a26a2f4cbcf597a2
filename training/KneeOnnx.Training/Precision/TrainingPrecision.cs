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
    /// bf16 where it measured faster than fp32: with AMX, or AVX-512 BF16 on an AMD CPU (1.5–2.75× on the 2-core EPYCs,
    /// docs/bench-training.md). An Intel CPU that lists AVX-512 BF16 without AMX (the 2-core Xeon guests here) trained
    /// every network 0.6–0.87× as fast in bf16 (docs/bench-training-xeon.md), so it keeps fp32; without either flag oneDNN
    /// emulates bf16. CUDA runs keep fp32 unless asked: the GPU recipe has not been measured in bf16.
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
        var (vendor, flags) = ReadCpuInfo();
        return DefaultForCpu(vendor, flags);
    }

    /// <summary>The default precision for a CPU with this vendor id and these /proc/cpuinfo flags, and the line that says why.</summary>
    public static (string Precision, string Line) DefaultForCpu(string vendor, IReadOnlyCollection<string> flags)
    {
        if (flags.Contains("amx_bf16"))
            return (Bf16, "precision: bf16 compute, fp32 master weights (the CPU reports amx_bf16; --precision fp32 to turn off)");
        if (!flags.Contains("avx512_bf16"))
            return (Fp32, "precision: fp32 (this CPU reports no avx512_bf16/amx_bf16; --precision bf16 would be emulated and slower)");
        return vendor == "AuthenticAMD"
            ? (Bf16, "precision: bf16 compute, fp32 master weights (the CPU reports avx512_bf16; --precision fp32 to turn off)")
            : (Fp32, $"precision: fp32 (this {vendor} CPU reports avx512_bf16 without amx_bf16, where bf16 measured 0.6–0.87× fp32's speed; `bench --training-only` compares both here, --precision bf16 to override)");
    }

    public static void Validate(string precision, string option = "--precision")
    {
        if (!Choices.Contains(precision))
            throw new ArgumentException($"{option} '{precision}' is not one of {string.Join(", ", Choices)}");
    }

    /// <summary>The first bf16 instruction-set flag /proc/cpuinfo lists, or null (also off Linux).</summary>
    public static string? CpuBf16Flag()
    {
        var (_, flags) = ReadCpuInfo();
        return new[] { "amx_bf16", "avx512_bf16" }.FirstOrDefault(flags.Contains);
    }

    /// <summary>The first processor's vendor id and flags from /proc/cpuinfo; empty off Linux.</summary>
    private static (string Vendor, IReadOnlyCollection<string> Flags) ReadCpuInfo()
    {
        const string cpuinfo = "/proc/cpuinfo";
        string vendor = "";
        if (!File.Exists(cpuinfo)) return (vendor, []);
        foreach (var line in File.ReadLines(cpuinfo))
        {
            string value = line.Contains(':') ? line[(line.IndexOf(':') + 1)..].Trim() : "";
            if (line.StartsWith("vendor_id", StringComparison.Ordinal)) vendor = value;
            else if (line.StartsWith("flags", StringComparison.Ordinal))
                return (vendor, value.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet());
        }
        return (vendor, []);
    }

    public static ScalarType ScalarTypeOf(string precision) => precision == Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
}
