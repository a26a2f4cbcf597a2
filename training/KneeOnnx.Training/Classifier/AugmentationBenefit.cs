using System.Diagnostics;
using System.Globalization;
using System.Text;
using KneeOnnx.IO;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Reports;

namespace KneeOnnx.Training.Classifier;

/// <summary>The two classifiers' val figures: real train only, and real train plus synthetic images.</summary>
/// <param name="TrainingSeconds">both arms' training time on their own clocks, unrounded (the report's is rounded), so
/// that sums over seeds round once.</param>
public sealed record AugmentationResult(ClassifierHeader RealOnly, ClassifierHeader Augmented, int[] SyntheticPerGrade, int Steps, AugmentationReport Report, double TrainingSeconds);

/// <summary>A finished classifier of a comparison and its training time over every invocation (an adopted arm: its lender's).</summary>
public sealed record TrainedArm(ClassifierHeader Best, double Seconds);

/// <summary>
/// Does adding generated images help a KL classifier? Trains the reference classifier twice with the same seed and the
/// same number of optimiser steps (the budget is the real-only run's), once on real train and once on real train plus
/// up to N generated images per grade, and compares both on val. Same steps, not same epochs: more data must not buy
/// more compute.
/// </summary>
public static class AugmentationBenefit
{
    public const string RealOnlyFile = "augment-real-only.kcls";
    public const string AugmentedFile = "augment-with-synthetic.kcls";
    /// <summary>The seeded verdict's classifier trained on the generated images alone (its val accuracy is the CAS).</summary>
    public const string GeneratedOnlyFile = "synthetic-only.kcls";

    public static AugmentationResult Run(ClassifierConfig config, KneeDataset train, KneeDataset val, KneeDataset synthetic, int? perGrade, string outDirectory, TextWriter log) =>
        Run(config, train, val, synthetic, perGrade, outDirectory, log, null)!;

    /// <param name="run">null: train both arms now. Otherwise each arm keeps a checkpoint beside its classifier file in
    /// <paramref name="outDirectory"/> and continues it when present, stopping by <see cref="ClassifierRunOptions.StopBy"/>.</param>
    /// <returns>null when the time ran out before both arms finished (run the same again to continue).</returns>
    /// <param name="baseline">a folder holding a finished real-only arm of the same settings, seed and data (an earlier
    /// run's --out, or its seed-N folder) to adopt instead of training it again (see <see cref="BaselineArm"/>); needs <paramref name="run"/>.</param>
    public static AugmentationResult? Run(ClassifierConfig config, KneeDataset train, KneeDataset val, KneeDataset synthetic, int? perGrade, string outDirectory, TextWriter log,
                                          ClassifierRunOptions? run, string? baseline = null)
    {
        config.Validate();
        if (perGrade is <= 0) throw new ArgumentException($"--per-grade must be at least 1, got {perGrade}");
        if (synthetic.Count == 0) throw new DatasetException($"{synthetic.Directory}: no generated images to add");
        if (File.Exists(outDirectory)) throw new ArgumentException($"{outDirectory}: --out is a file, not a folder");
        string? dataSha = baseline is null ? null : ClassifierCheckpoint.DataSha256(train, train.Grades, val, val.Grades);
        if (baseline is not null)
        {
            if (run is null) throw new ArgumentException("a baseline is adopted as a finished checkpointed run: give run options");
            // A refused baseline leaves no --out behind (the seeded verdict checks every seed before its first folder).
            if (!File.Exists(Path.ChangeExtension(Path.Combine(outDirectory, RealOnlyFile), ".ckpt")))
                BaselineArm.Check(baseline, Budget(config, train), dataSha!);
        }
        Directory.CreateDirectory(outDirectory);
        var timer = Stopwatch.StartNew();

        var chosen = Chosen(synthetic, perGrade);
        var mixedImages = train.Images.Concat(chosen.Select(i => synthetic.Images[i])).ToArray();
        var mixedGrades = train.Grades.Concat(chosen.Select(i => synthetic.Grades[i])).ToArray();
        var mixed = KneeDataset.FromMemory(config.ImageSize, mixedImages, mixedGrades, "train+synthetic");
        var added = new int[KlGrades.Count];
        foreach (int i in chosen) added[synthetic.Grades[i]]++;
        var budget = Budget(config, train);
        int steps = budget.StepsPerEpoch!.Value;
        log.WriteLine($"augment-benefit: {train.Count} real + {chosen.Length} synthetic ({string.Join(" ", added)}) at {config.ImageSize}²; "
            + $"both runs {budget.Epochs} × {steps} steps of batch {config.BatchSize}, seed {config.Seed}");

        bool adopted = baseline is not null && BaselineArm.Adopt(baseline, outDirectory, budget, dataSha!);
        string? adoptedFrom = BaselineArm.AdoptedFrom(outDirectory);
        log.WriteLine(adopted ? $"run 1/2: real train only, adopted from {baseline}"
            : adoptedFrom is not null ? $"run 1/2: real train only, adopted earlier from {adoptedFrom}" : "run 1/2: real train only");
        var realArm = Arm(budget, train, val, Path.Combine(outDirectory, RealOnlyFile), log, run);
        if (realArm is null) return null;
        log.WriteLine("run 2/2: real train + synthetic");
        var augmentedArm = Arm(budget, mixed, val, Path.Combine(outDirectory, AugmentedFile), log, run);
        if (augmentedArm is null) return null;
        var (realOnly, augmented) = (realArm.Best, augmentedArm.Best);

        var report = new AugmentationReport
        {
            SyntheticDirectory = synthetic.Directory,
            SyntheticPerGrade = added,
            RealTrainImages = train.Count,
            RealPerGrade = train.CountPerGrade(),
            ValImages = val.Count,
            ImageSide = config.ImageSize,
            Epochs = budget.Epochs,
            StepsPerEpoch = steps,
            Batch = config.BatchSize,
            Seed = config.Seed,
            RealOnly = ClassifierScores.Of(realOnly),
            WithSynthetic = ClassifierScores.Of(augmented),
            Delta = ClassifierScores.Difference(augmented, realOnly),
            RealOnlyAdoptedFrom = adoptedFrom,
            Seconds = Math.Round(timer.Elapsed.TotalSeconds, 1),
            TrainingSeconds = Math.Round(realArm.Seconds + augmentedArm.Seconds, 1),
        };
        ReportJson.Write(Path.Combine(outDirectory, "augment.json"), report);
        AtomicFile.WriteAllText(Path.Combine(outDirectory, "augment.md"), Markdown(report, realOnly, augmented));
        log.WriteLine($"val accuracy {realOnly.ValAccuracy:F3} → {augmented.ValAccuracy:F3}, κ {realOnly.ValQuadraticKappa:F3} → {augmented.ValQuadraticKappa:F3}, "
            + $"MAE {realOnly.ValMeanAbsoluteError:F3} → {augmented.ValMeanAbsoluteError:F3} ({timer.Elapsed.TotalSeconds:F0}s here, {report.TrainingSeconds:F0}s of training in all); wrote {Path.Combine(outDirectory, "augment.json")}");
        return new AugmentationResult(realOnly, augmented, added, steps * budget.Epochs, report, realArm.Seconds + augmentedArm.Seconds);
    }

    /// <summary>Both arms' budget: the real-only run's steps per epoch (one pass over the real train set unless set).</summary>
    public static ClassifierConfig Budget(ClassifierConfig config, KneeDataset train) =>
        config with { StepsPerEpoch = config.StepsPerEpoch ?? Math.Max(1, train.Count / config.BatchSize) };

    /// <summary>
    /// One classifier of the comparison: trained now, or (with <paramref name="run"/>) continued from its checkpoint
    /// FILE.ckpt; null when stopped unfinished.
    /// </summary>
    internal static TrainedArm? Arm(ClassifierConfig config, KneeDataset train, KneeDataset val, string file, TextWriter log, ClassifierRunOptions? run)
    {
        var outcome = ClassifierTrainer.Run(config, train, val, file, log,
            run is null ? new ClassifierRunOptions() : run with { Checkpoint = Path.ChangeExtension(file, ".ckpt"), Resume = true });
        return outcome.Completed ? new TrainedArm(outcome.Best!, outcome.Seconds) : null;
    }

    /// <summary>The generated images a run adds: the first <paramref name="perGrade"/> of each grade (all when null).</summary>
    public static int[] Chosen(KneeDataset synthetic, int? perGrade) =>
        Enumerable.Range(0, synthetic.Count).GroupBy(i => synthetic.Grades[i]).SelectMany(g => perGrade is int n ? g.Take(n) : g).Order().ToArray();

    private static string Markdown(AugmentationReport report, ClassifierHeader real, ClassifierHeader mixed)
    {
        var inv = CultureInfo.InvariantCulture;
        string Recall(ClassifierHeader h) => string.Join(" / ", h.ValRecall.Select(r => r.ToString("F2", inv)));
        var sb = new StringBuilder("# Augmentation benefit\n\n");
        sb.AppendLine($"Reference KL classifier at {report.ImageSide}², seed {report.Seed}, the same budget for both runs: {report.Epochs} epochs × {report.StepsPerEpoch} steps of batch {report.Batch}. "
            + $"Synthetic images added per grade: {string.Join(" / ", report.SyntheticPerGrade)}. Figures on val ({report.ValImages} images), best epoch by quadratic κ.").AppendLine();
        sb.AppendLine("| training data | val accuracy | quadratic κ | MAE | recall KL0 / 1 / 2 / 3 / 4 |").AppendLine("|---|---|---|---|---|");
        sb.AppendLine($"| real train ({report.RealTrainImages}: {string.Join(" / ", report.RealPerGrade)}) | {real.ValAccuracy.ToString("F3", inv)} | {real.ValQuadraticKappa.ToString("F3", inv)} | {real.ValMeanAbsoluteError.ToString("F3", inv)} | {Recall(real)} |");
        sb.AppendLine($"| real + synthetic | {mixed.ValAccuracy.ToString("F3", inv)} | {mixed.ValQuadraticKappa.ToString("F3", inv)} | {mixed.ValMeanAbsoluteError.ToString("F3", inv)} | {Recall(mixed)} |");
        if (report.RealOnlyAdoptedFrom is not null) sb.AppendLine().AppendLine($"The real-only run was adopted from {report.RealOnlyAdoptedFrom} (same settings, seed and images).");
        sb.AppendLine().AppendLine("Each run keeps its epoch with the best val κ and reports val figures, as the reference classifier does: optimistic for both, and equally so. "
            + "One seed: differences of a few points are within run-to-run noise; repeat with other --seed values before concluding.");
        return sb.ToString();
    }
}
