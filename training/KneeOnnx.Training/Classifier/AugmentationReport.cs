using System.Text.Json.Serialization;

namespace KneeOnnx.Training.Classifier;

/// <summary>augment.json, and the <c>augmentBenefit</c> entry of an evaluation report: both classifier runs on val.</summary>
public sealed record AugmentationReport
{
    public required string SyntheticDirectory { get; init; }
    public required IReadOnlyList<int> SyntheticPerGrade { get; init; }
    public required int RealTrainImages { get; init; }
    /// <summary>The real train images per grade the run used: with --real-fraction, the kept share (a verdict for a small data set reads differently).</summary>
    public IReadOnlyList<int> RealPerGrade { get; init; } = [];
    public required int ValImages { get; init; }
    public required int ImageSide { get; init; }
    public required int Epochs { get; init; }
    public required int StepsPerEpoch { get; init; }
    public required int Batch { get; init; }
    public required long Seed { get; init; }
    public required ClassifierScores RealOnly { get; init; }
    public required ClassifierScores WithSynthetic { get; init; }
    public required ClassifierScores Delta { get; init; }
    /// <summary>The baseline folder the real-only arm was copied from (by this run or an earlier one of the same --out); null: trained here.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RealOnlyAdoptedFrom { get; init; }
    /// <summary>Wall time of this invocation only: a verdict continued after --max-minutes reports the last part here.</summary>
    public required double Seconds { get; init; }
    /// <summary>Both classifiers' training time on their own clocks, over every invocation that trained them (an adopted
    /// real-only arm counts the time it took where it was trained): what the comparison costs on this machine.</summary>
    public required double TrainingSeconds { get; init; }
}

/// <summary>One classifier's val figures rounded to 4 decimals; a recall is null for a grade val has no image of.
/// As a delta (with synthetic − real only) <see cref="KeptEpoch"/> is absent.</summary>
public sealed record ClassifierScores
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? KeptEpoch { get; init; }
    public required double Accuracy { get; init; }
    public required double QuadraticKappa { get; init; }
    public required double MeanAbsoluteError { get; init; }
    public required IReadOnlyList<double?> Recall { get; init; }

    public static ClassifierScores Of(ClassifierHeader h) => new()
    {
        KeptEpoch = h.Epoch,
        Accuracy = Math.Round(h.ValAccuracy, 4),
        QuadraticKappa = Math.Round(h.ValQuadraticKappa, 4),
        MeanAbsoluteError = Math.Round(h.ValMeanAbsoluteError, 4),
        Recall = h.ValRecall.Select(Rounded).ToArray(),
    };

    public static ClassifierScores Difference(ClassifierHeader after, ClassifierHeader before) => new()
    {
        Accuracy = Math.Round(after.ValAccuracy - before.ValAccuracy, 4),
        QuadraticKappa = Math.Round(after.ValQuadraticKappa - before.ValQuadraticKappa, 4),
        MeanAbsoluteError = Math.Round(after.ValMeanAbsoluteError - before.ValMeanAbsoluteError, 4),
        Recall = after.ValRecall.Zip(before.ValRecall, (a, b) => Rounded(a - b)).ToArray(),
    };

    private static double? Rounded(double value) => double.IsNaN(value) ? null : Math.Round(value, 4);
}
