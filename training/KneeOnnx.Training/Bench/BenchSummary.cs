using KneeOnnx.Training.Reports;

namespace KneeOnnx.Training.Bench;

/// <summary>The part of bench.json a model card quotes: which model was measured, on what, and sampling speed.</summary>
public sealed record BenchSummary
{
    public const string FileName = "bench.json";

    public required string ModelSha256 { get; init; }
    public required BenchMachine Machine { get; init; }
    public required IReadOnlyList<SamplingSpeed> Sampling { get; init; }

    /// <summary>Reads bench.json; a missing, non-JSON or wrong-shaped file is one error naming it.</summary>
    public static BenchSummary Load(string path) => ReportJson.Read<BenchSummary>(path, "a bench report");
}

public sealed record BenchMachine
{
    public required string Cpu { get; init; }
    public required int LogicalCores { get; init; }
    public required string Provider { get; init; }
}

/// <summary>One whole sampling run on ONNX Runtime.</summary>
public sealed record SamplingSpeed
{
    public required string Sampler { get; init; }
    public required int Steps { get; init; }
    public required int Batch { get; init; }
    public required double OrtImagesPerSecond { get; init; }
}
