using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Reports;

namespace KneeOnnx.Training.Evaluation;

/// <summary>
/// What evaluate measured, as written to report.json. Per-grade figures are keyed "0".."4" and "all" (see
/// <see cref="GradeKeys"/>). <see cref="Generation"/> and <see cref="AugmentBenefit"/> are optional because reports
/// written before evaluate --model and --augment existed lack them.
/// </summary>
public sealed record EvaluationReport
{
    public const string FileName = "report.json";
    public const string AugmentNotComputed = "not computed: pass --augment";
    public const string ClassifierNotComputed = "not computed: pass --classifier FILE (made by train-classifier)";

    public required int ImageSide { get; init; }
    public required ImageSetSummary Generated { get; init; }
    public GenerationInfo? Generation { get; init; }
    public required ImageSetSummary Real { get; init; }
    public required ImageSetSummary Train { get; init; }
    public required IReadOnlyDictionary<string, double?> FidRn18 { get; init; }
    public required IReadOnlyDictionary<string, double?> Floor { get; init; }
    public required IReadOnlyDictionary<string, GradeCounts> Counts { get; init; }
    /// <summary>KID-RN18 (unbiased MMD², <see cref="KernelDistance"/>) of generated vs real, and of the floor sample vs real;
    /// absent from reports written before it existed.</summary>
    public IReadOnlyDictionary<string, KernelDistanceEstimate?>? KidRn18 { get; init; }
    public IReadOnlyDictionary<string, KernelDistanceEstimate?>? KidFloor { get; init; }
    /// <summary>Precision, recall, density and coverage per grade key (absent from reports written before they were measured).</summary>
    public IReadOnlyDictionary<string, ManifoldEstimate?>? Manifold { get; init; }
    /// <summary>The same four for the floor's real train sample: what a real set of that size scores.</summary>
    public IReadOnlyDictionary<string, ManifoldEstimate?>? ManifoldFloor { get; init; }
    public required IReadOnlyDictionary<string, GradeFidelity>? GradeFidelity { get; init; }
    public required double? Spearman { get; init; }
    public required double? KlIs { get; init; }
    /// <summary>Which classifier measured fidelity, Spearman and KL-IS, or why they were not computed.</summary>
    public required string ClassifierMeasures { get; init; }
    /// <summary>Generated images flagged by pixel distance (the same as <see cref="MemorisationAudit.FlaggedByPixels"/>).</summary>
    public required int Memorised { get; init; }
    [JsonConverter(typeof(NotComputedConverter))]
    public AugmentationReport? AugmentBenefit { get; init; }
    public required MemorisationAudit Memorisation { get; init; }
    /// <summary>With --side-classifier; absent from reports written before the side check existed.</summary>
    public SideFidelity? SideFidelity { get; init; }
    /// <summary>With --denoise-check; absent otherwise and from older reports.</summary>
    public DenoisingReport? Denoising { get; init; }
    public required double Seconds { get; init; }

    /// <summary>The per-grade keys in report order: each KL grade, then all grades together.</summary>
    public static IReadOnlyList<string> GradeKeys { get; } =
        Enumerable.Range(0, KlGrades.Count).Select(g => g.ToString(CultureInfo.InvariantCulture)).Append(AllGrades).ToArray();

    public const string AllGrades = "all";

    public void Save(string path) => ReportJson.Write(path, this);

    /// <summary>Reads report.json back; a missing, non-JSON or wrong-shaped file is one <see cref="InvalidDataException"/>
    /// (or <see cref="FileNotFoundException"/>) naming it.</summary>
    public static EvaluationReport Load(string path)
    {
        var report = ReportJson.Read<EvaluationReport>(path, "an evaluation report");
        var missing = report.FidRn18.Keys.Where(k => !report.Floor.ContainsKey(k) || !report.Counts.ContainsKey(k)).ToList();
        if (report.FidRn18.Count == 0 || missing.Count > 0)
            throw new InvalidDataException($"{path}: not an evaluation report (fidRn18, floor and counts must name the same grades; {string.Join(", ", missing.DefaultIfEmpty("none listed"))})");
        return report;
    }

    /// <summary>An absent augmentation benefit is written as the note saying how to get one, as report.json always had it.</summary>
    private sealed class NotComputedConverter : JsonConverter<AugmentationReport?>
    {
        public override bool HandleNull => true;

        public override AugmentationReport? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType is JsonTokenType.String or JsonTokenType.Null
                ? null
                : JsonSerializer.Deserialize<AugmentationReport>(ref reader, options);

        public override void Write(Utf8JsonWriter writer, AugmentationReport? value, JsonSerializerOptions options)
        {
            if (value is null) writer.WriteStringValue(AugmentNotComputed);
            else JsonSerializer.Serialize(writer, value, options);
        }
    }
}
