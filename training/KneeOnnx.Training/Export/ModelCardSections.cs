using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using KneeOnnx.Training.Bench;

namespace KneeOnnx.Training.Export;

/// <summary>
/// The measured parts of a model card, rendered from the files that hold them (the run's config.json and loss.csv,
/// bench's bench.json), so a card's numbers are never typed by hand; the evaluation section is <see cref="Evaluation.EvaluationMarkdown.CardSection"/>.
/// </summary>
public static class ModelCardSections
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Whether the card at <paramref name="cardPath"/> has a Training section, whatever file it describes.</summary>
    public static bool HasTraining(string cardPath) => HasSection(cardPath, "Training");

    /// <summary>Whether the card already at <paramref name="cardPath"/> has an Evaluation section, for whichever file.</summary>
    public static bool HasEvaluation(string cardPath) => HasSection(cardPath, Evaluation.EvaluationMarkdown.CardHeading);

    private static bool HasSection(string cardPath, string heading) =>
        File.Exists(cardPath) && File.ReadLines(cardPath).Any(l => l.TrimEnd() == $"## {heading}");

    /// <summary>
    /// The Training section of the card already at <paramref name="cardPath"/>, when that card was written for the
    /// model file of <paramref name="modelSha256"/>; null when there is no card, it has no such section, or it
    /// describes another file (other weights, or the same weights with other metadata).
    /// </summary>
    public static string? KeptTraining(string cardPath, string modelSha256) => Kept(cardPath, modelSha256, "Training");

    /// <summary>The Evaluation section of the card already there, on the terms of <see cref="KeptTraining"/>: evaluation folders do not outlive their machine either.</summary>
    public static string? KeptEvaluation(string cardPath, string modelSha256) => Kept(cardPath, modelSha256, Evaluation.EvaluationMarkdown.CardHeading);

    private static string? Kept(string cardPath, string modelSha256, string heading)
    {
        if (!File.Exists(cardPath)) return null;
        // A checkout may have turned the line ends into CRLF; the card is written with LF.
        string text = "\n" + string.Join("\n", File.ReadAllText(cardPath).ReplaceLineEndings("\n").Split('\n').Select(l => l.TrimEnd()));
        if (!text.Contains($"SHA-256 `{modelSha256}`", StringComparison.Ordinal)) return null;
        int start = text.IndexOf($"\n## {heading}\n", StringComparison.Ordinal);
        if (start < 0) return null;
        int end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return (end < 0 ? text[(start + 1)..] : text[(start + 1)..(end + 1)]).TrimEnd() + "\n\n";
    }

    /// <param name="steps">the model's own step count (its metadata), which the run's loss log may have passed since.</param>
    /// <param name="datasetSha256">the model's training data hash (its metadata), which the run must have trained on.</param>
    public static string Training(string runDir, string? machine, long steps, string? datasetSha256 = null, string? preset = null)
    {
        string configPath = Path.Combine(runDir, KneeOnnx.Training.Runs.Trainer.ConfigFileName);
        string lossPath = Path.Combine(runDir, KneeOnnx.Training.Runs.LossLog.FileName);
        try
        {
            return TrainingSection(runDir, configPath, lossPath, machine, steps, datasetSha256, preset);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NullReferenceException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new InvalidDataException($"{runDir}: not a readable training run ({configPath}, {lossPath}: {e.Message})", e);
        }
    }

    private static string TrainingSection(string runDir, string configPath, string lossPath, string? machine, long steps, string? datasetSha256, string? preset)
    {
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath}: not found", configPath);
        if (!File.Exists(lossPath)) throw new FileNotFoundException($"{lossPath}: not found", lossPath);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        // A card tells one model's story: a run on other data or of another network did not make it.
        string? runData = config["dataset"]?["sha256"]?.GetValue<string>(), runPreset = config["model"]?["Preset"]?.GetValue<string>();
        if (datasetSha256 is not null && runData is not null && runData != datasetSha256)
            throw new ArgumentException($"{runDir}: --run trained on other data (sha256 {runData[..Math.Min(16, runData.Length)]}…) than the model (sha256 {datasetSha256[..Math.Min(16, datasetSha256.Length)]}…); give the run that made it");
        if (preset is not null && runPreset is not null && runPreset != preset)
            throw new ArgumentException($"{runDir}: --run trained a {runPreset} network, the model is {preset}; give the run that made it");
        var t = config["train"]!;
        // A run started --init-from another model counts that model's steps in the export, but logs only its own.
        long inherited = t["InitFromSteps"]?.GetValue<long>() ?? 0;
        long runSteps = steps - inherited;
        // Wall time up to the model's step: the loss log has one row per step with the run's elapsed seconds.
        var row = File.ReadLines(lossPath).Skip(1).Select(l => l.Split(',')).LastOrDefault(r => long.Parse(r[0], Inv) <= runSteps);
        double hours = row is null ? 0 : double.Parse(row[4], Inv) / 3600;
        bool guidance = t["LabelDropout"]!.GetValue<double>() > 0;
        var sb = new StringBuilder("## Training\n\n");
        string history = inherited > 0
            ? $"{steps} steps in all: {runSteps} of batch {t["BatchSize"]} in this run ({hours:F1} h of training wall time), continuing a model of {inherited} steps (`--init-from`; its batch size is its own card's);"
            : $"{steps} steps of batch {t["BatchSize"]} ({hours:F1} h of training wall time)";
        sb.AppendLine($"{history} on {config["dataset"]!["images"]} images of `{Path.GetFileName(Path.GetDirectoryName(config["dataset"]!["directory"]!.GetValue<string>()) ?? "")}/train` "
            + $"(per grade {string.Join(" / ", config["dataset"]!["perGrade"]!.AsArray())}), {config["device"]} with {config["threads"]} threads{(machine is null ? "" : $" ({machine})")}. "
            + $"AdamW peak lr {t["LearningRate"]}, {t["WarmupSteps"]} warm-up steps then cosine decay to {t["FinalLearningRateFraction"]}× over {t["Steps"]} steps; "
            + $"min-SNR-γ {t["MinSnrGamma"]}; EMA {t["EmaDecay"]}; label dropout {t["LabelDropout"]}{(guidance ? " (classifier-free guidance possible)" : "")}; grade sampling `{t["Balance"]}`; "
            + $"horizontal flips {((bool)t["HorizontalFlip"]! ? "on" : "off")}; seed {t["Seed"]}.").AppendLine();
        return sb.ToString();
    }

    public static string Speed(BenchSummary bench)
    {
        var sb = new StringBuilder("## Speed\n\n");
        sb.AppendLine($"On {bench.Machine.Cpu} ({bench.Machine.LogicalCores} cores, {bench.Machine.Provider} provider), `kneeonnx-train bench`:").AppendLine();
        sb.AppendLine("| sampler | steps | batch | images/s (ONNX Runtime) |").AppendLine("|---|---|---|---|");
        foreach (var s in bench.Sampling)
            sb.AppendLine($"| {s.Sampler} | {s.Steps} | {s.Batch} | {s.OrtImagesPerSecond.ToString(Inv)} |");
        sb.AppendLine();
        return sb.ToString();
    }
}
