using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace KneeOnnx.Training.Export;

/// <summary>
/// The measured parts of a model card, rendered from the files that hold them (the run's config.json and loss.csv,
/// evaluate's report.json, bench's bench.json), so a card's numbers are never typed by hand.
/// </summary>
public static class ModelCardSections
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <param name="steps">the model's own step count (its metadata), which the run's loss log may have passed since.</param>
    public static string Training(string runDir, string? machine, long steps)
    {
        string configPath = Path.Combine(runDir, KneeOnnx.Training.Training.Trainer.ConfigFileName);
        string lossPath = Path.Combine(runDir, KneeOnnx.Training.Training.LossLog.FileName);
        try
        {
            return TrainingSection(configPath, lossPath, machine, steps);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NullReferenceException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new InvalidDataException($"{runDir}: not a readable training run ({configPath}, {lossPath}: {e.Message})", e);
        }
    }

    private static string TrainingSection(string configPath, string lossPath, string? machine, long steps)
    {
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath}: not found", configPath);
        if (!File.Exists(lossPath)) throw new FileNotFoundException($"{lossPath}: not found", lossPath);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        var t = config["train"]!;
        // Wall time up to the model's step: the loss log has one row per step with the run's elapsed seconds.
        var row = File.ReadLines(lossPath).Skip(1).Select(l => l.Split(',')).LastOrDefault(r => long.Parse(r[0], Inv) <= steps);
        double hours = row is null ? 0 : double.Parse(row[4], Inv) / 3600;
        bool guidance = t["LabelDropout"]!.GetValue<double>() > 0;
        var sb = new StringBuilder("## Training\n\n");
        sb.AppendLine($"{steps} steps of batch {t["BatchSize"]} ({hours:F1} h of training wall time) on {config["dataset"]!["images"]} images of `{Path.GetFileName(Path.GetDirectoryName(config["dataset"]!["directory"]!.GetValue<string>()) ?? "")}/train` "
            + $"(per grade {string.Join(" / ", config["dataset"]!["perGrade"]!.AsArray())}), {config["device"]} with {config["threads"]} threads{(machine is null ? "" : $" ({machine})")}. "
            + $"AdamW peak lr {t["LearningRate"]}, {t["WarmupSteps"]} warm-up steps then cosine decay to {t["FinalLearningRateFraction"]}× over {t["Steps"]} steps; "
            + $"min-SNR-γ {t["MinSnrGamma"]}; EMA {t["EmaDecay"]}; label dropout {t["LabelDropout"]}{(guidance ? " (classifier-free guidance possible)" : "")}; grade sampling `{t["Balance"]}`; "
            + $"horizontal flips {((bool)t["HorizontalFlip"]! ? "on" : "off")}; seed {t["Seed"]}.").AppendLine();
        return sb.ToString();
    }

    public static string Evaluation(JsonObject report, string command)
    {
        var sb = new StringBuilder("## Evaluation on val\n\n");
        var gen = report["generation"];
        sb.AppendLine($"Reproduce: `{command}` ({report["seconds"]} s here). "
            + (gen is null ? "" : $"{gen["perGrade"]} images per grade, {gen["sampler"]}, seed {gen["seed"]}. ")
            + $"Analysis at {report["imageSide"]}²: real val images brought down to the model's size, then both up to 224² the same way for ImageNet ResNet-18 features.").AppendLine();
        sb.AppendLine("| grade | FID-RN18 generated vs val | real-vs-real floor (train sample, same n) | ratio | n generated | n val |").AppendLine("|---|---|---|---|---|---|");
        var fid = report["fidRn18"]!.AsObject();
        foreach (var (key, value) in fid)
        {
            double? f = value?.GetValue<double>(), fl = report["floor"]![key]?.GetValue<double>();
            string ratio = f is double a && fl is double b && b > 0 ? (a / b).ToString("F1", Inv) + "×" : "–";
            var counts = report["counts"]![key]!;
            sb.AppendLine($"| {(key == "all" ? "all" : "KL" + key)} | {f?.ToString("F1", Inv) ?? "–"} | {fl?.ToString("F1", Inv) ?? "–"} | {ratio} | {counts["generated"]} | {counts["real"]} |");
        }
        sb.AppendLine();
        if (report["gradeFidelity"] is JsonObject fidelity)
        {
            sb.AppendLine($"Reference classifier: {report["classifierMeasures"]}.").AppendLine();
            sb.AppendLine("| conditioning grade | classified as that grade (generated) | same classifier on val images of that grade | mean predicted grade |").AppendLine("|---|---|---|---|");
            foreach (var (key, value) in fidelity)
                sb.AppendLine($"| {(key == "all" ? "all" : "KL" + key)} | {value!["generated"]} | {value["real"]} | {value["meanPredictedGrade"]} |");
            sb.AppendLine().AppendLine($"Ordinal check: Spearman ρ between conditioning and predicted grade {report["spearman"]}; KL-IS {report["klIs"]} (the Inception-Score formula on the KL classifier, range 1–5).").AppendLine();
        }
        var mem = report["memorisation"]!;
        sb.AppendLine($"Memorisation audit: {mem["flaggedByPixels"]} generated images closer in pixels to a training image than the 1st percentile of val images' nearest-training distances "
            + $"({mem["pixelThreshold"]!.GetValue<double>().ToString("F3", Inv)}); {mem["flaggedByFeatures"]} in ResNet-18 feature space. "
            + $"Median nearest-training distance: generated {mem["generatedMedianPixelDistance"]!.GetValue<double>().ToString("F3", Inv)}, val {mem["realMedianPixelDistance"]!.GetValue<double>().ToString("F3", Inv)}.").AppendLine();
        if (report["augmentBenefit"] is JsonObject aug)
        {
            var r = aug["realOnly"]!;
            var m = aug["withSynthetic"]!;
            sb.AppendLine($"Augmentation benefit (the reference classifier trained twice, same seed and {aug["epochs"]}×{aug["stepsPerEpoch"]} steps; synthetic images added per grade {string.Join(" / ", aug["syntheticPerGrade"]!.AsArray())}):").AppendLine();
            sb.AppendLine("| training data | val accuracy | quadratic κ | MAE | recall KL0 / 1 / 2 / 3 / 4 |").AppendLine("|---|---|---|---|---|");
            sb.AppendLine($"| real train | {r["accuracy"]} | {r["quadraticKappa"]} | {r["meanAbsoluteError"]} | {string.Join(" / ", r["recall"]!.AsArray())} |");
            sb.AppendLine($"| real + synthetic | {m["accuracy"]} | {m["quadraticKappa"]} | {m["meanAbsoluteError"]} | {string.Join(" / ", m["recall"]!.AsArray())} |").AppendLine();
        }
        return sb.ToString();
    }

    public static string Speed(JsonObject bench)
    {
        var sb = new StringBuilder("## Speed\n\n");
        sb.AppendLine($"On {bench["machine"]!["cpu"]} ({bench["machine"]!["logicalCores"]} cores, {bench["machine"]!["provider"]} provider), `kneeonnx-train bench`:").AppendLine();
        sb.AppendLine("| sampler | steps | batch | images/s (ONNX Runtime) |").AppendLine("|---|---|---|---|");
        foreach (var s in bench["sampling"]!.AsArray())
            sb.AppendLine($"| {s!["sampler"]} | {s["steps"]} | {s["batch"]} | {s["ortImagesPerSecond"]} |");
        sb.AppendLine();
        return sb.ToString();
    }
}
