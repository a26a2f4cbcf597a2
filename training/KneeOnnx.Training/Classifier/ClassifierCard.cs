using System.Globalization;
using System.Text;
using KneeOnnx.IO;

namespace KneeOnnx.Training.Classifier;

/// <summary>
/// The Markdown card train-classifier writes beside a finished classifier (FILE.md): what the network is, how it was
/// trained, and its figures on val from the file's own header — per-class recall, precision, F1 and the confusion matrix.
/// </summary>
public static class ClassifierCard
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string PathFor(string classifierFile) => Path.ChangeExtension(classifierFile, ".md");

    /// <param name="history">What was done to the file after the command, if anything (a row of its own).</param>
    public static void Write(string classifierFile, ClassifierHeader header, ClassifierConfig config, string command, string? history = null) =>
        AtomicFile.WriteAllText(PathFor(classifierFile), Document(Path.GetFileName(classifierFile), new FileInfo(classifierFile).Length, header, config, command, history));

    public static string Document(string name, long bytes, ClassifierHeader header, ClassifierConfig config, string command, string? history = null)
    {
        var names = ClassifierTarget.ClassNames(header.Target);
        var sb = new StringBuilder();
        sb.AppendLine($"# {(header.Target == ClassifierTarget.Side ? "Knee-side" : "KL-grade")} classifier: {name}").AppendLine();
        sb.AppendLine("| | |").AppendLine("|---|---|");
        sb.AppendLine($"| network | {Network(header)} |");
        sb.AppendLine($"| input | {header.ImageSize}² gray{(header.MirrorAveraging ? "; every prediction averages the class probabilities of the image and its left-right mirror (the figures below too)" : "")} |");
        sb.AppendLine($"| file | {bytes / 1e6:F1} MB, {(header.Weights == ClassifierWeights.Float16 ? "float16 parameters (normalisation statistics as trained); the figures below are the rounded weights'" : "float32 weights")} |");
        sb.AppendLine($"| training | {config.Epochs} epochs of batch {config.BatchSize}, AdamW lr {config.LearningRate.ToString("G3", Inv)} with warm-up and cosine decay, "
            + $"{(header.Target == ClassifierTarget.Side ? "uniform sampling, a flip swaps the side" : $"{config.Balance} grade balance, flips")}, brightness and contrast jitter"
            + (config.Translate > 0 ? $", shifts up to {config.Translate.ToString("P0", Inv)}" : "") + $", seed {config.Seed}; kept epoch {header.Epoch} "
            + $"(best {(header.Target == ClassifierTarget.Side ? "accuracy" : "quadratic-weighted κ")} on val) |");
        sb.AppendLine($"| data | Chen P., Knee Osteoarthritis Severity Grading Dataset, Mendeley Data, 2018, doi:10.17632/56rmx5bjcr.1 (CC BY 4.0); train pixels SHA-256 `{header.DatasetSha256}` |");
        sb.AppendLine($"| command | `{command}` |");
        if (history is not null) sb.AppendLine($"| afterwards | {history} |");
        sb.AppendLine();

        sb.AppendLine("## On val").AppendLine();
        sb.AppendLine("| accuracy | quadratic κ | mean absolute error | macro-F1 |").AppendLine("|---|---|---|---|");
        sb.AppendLine($"| {F(header.ValAccuracy)} | {F(header.ValQuadraticKappa)} | {F(header.ValMeanAbsoluteError)} | {(header.ValMacroF1 is double macro ? F(macro) : "–")} |").AppendLine();
        if (header.ValConfusion is not { } confusion) return sb.ToString();

        sb.AppendLine("| class | images | recall | precision | F1 |").AppendLine("|---|---|---|---|---|");
        for (int c = 0; c < names.Count; c++)
        {
            int truePositive = confusion[c][c], actual = confusion[c].Sum(), predicted = confusion.Sum(row => row[c]);
            double? recall = actual == 0 ? null : (double)truePositive / actual, precision = predicted == 0 ? null : (double)truePositive / predicted;
            double? f1 = actual + predicted == 0 ? null : 2.0 * truePositive / (actual + predicted);
            sb.AppendLine($"| {names[c]} | {actual} | {O(recall)} | {O(precision)} | {O(f1)} |");
        }
        sb.AppendLine().AppendLine("Confusion matrix (rows: true class; columns: predicted):").AppendLine();
        sb.AppendLine("| true \\ predicted | " + string.Join(" | ", names) + " |").AppendLine("|---|" + string.Concat(names.Select(_ => "---|")));
        for (int c = 0; c < names.Count; c++)
            sb.AppendLine($"| {names[c]} | " + string.Join(" | ", confusion[c]) + " |");
        return sb.ToString();
    }

    private static string Network(ClassifierHeader header) => header.Backbone == ClassifierBackbone.ResNet18ImageNet
        ? "ImageNet ResNet-18 (the `Microsoft.ML.DnnImageFeaturizer.ResNet18` package's weights) fine-tuned whole, gray replicated to its three channels, a new linear head"
        : $"the project's small GroupNorm CNN (widths {string.Join("/", header.Widths)}) trained from scratch";

    private static string F(double value) => value.ToString("F3", Inv);
    private static string O(double? value) => value is double v ? v.ToString("F3", Inv) : "–";
}
