using System.Diagnostics;
using System.Globalization;
using System.Text;
using KneeOnnx.IO;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Reports;

namespace KneeOnnx.Training.Classifier;

/// <summary>One figure of the verdict: both arms over seeds and their paired difference.</summary>
public sealed record SeededFigure(string Name, ArmSummary RealOnly, ArmSummary WithSynthetic, PairedDifference Difference);

/// <summary>One seed's pair (and its generated-only classifier's val accuracy, when measured), as the seed's own augment.json has them.</summary>
public sealed record SeedRow(long Seed, ClassifierScores RealOnly, ClassifierScores WithSynthetic, double? GeneratedOnlyAccuracy);

/// <summary>augment-seeds.json: the augmentation verdict over several seeds, and the classification accuracy score.</summary>
public sealed record SeededAugmentationReport
{
    public required IReadOnlyList<long> Seeds { get; init; }
    public required string Backbone { get; init; }
    public required int ImageSide { get; init; }
    public required int Epochs { get; init; }
    public required int StepsPerEpoch { get; init; }
    public required IReadOnlyList<int> SyntheticPerGrade { get; init; }
    /// <summary>The real train images per grade every arm drew from (the kept share with --real-fraction).</summary>
    public IReadOnlyList<int> RealPerGrade { get; init; } = [];
    public required IReadOnlyList<SeededFigure> Figures { get; init; }
    /// <summary>Each seed's figures, so a reader sees which seeds carry the mean and the spread.</summary>
    public IReadOnlyList<SeedRow> PerSeed { get; init; } = [];
    /// <summary>
    /// Val accuracy of the classifier trained on the generated images alone (Ravuri and Vinyals 2019), per seed summary;
    /// null when the generated set lacks a grade (a classifier that never saw a grade says nothing about the images' grade information).
    /// </summary>
    public ArmSummary? ClassificationAccuracyScore { get; init; }
    /// <summary>Where each seed's real-only arm was adopted from, by seed (empty: every one trained in this --out).</summary>
    public IReadOnlyDictionary<long, string> AdoptedRealOnly { get; init; } = new Dictionary<long, string>();
    /// <summary>Wall time of this invocation only.</summary>
    public required double Seconds { get; init; }
    /// <summary>Every classifier's training time on its own clock, over every invocation (adopted arms included).</summary>
    public required double TrainingSeconds { get; init; }
}

/// <summary>
/// The augmentation benefit with the run-to-run noise measured instead of guessed: the paired comparison of
/// <see cref="AugmentationBenefit"/> repeated for several seeds (each pair shares its seed and budget), summarised per arm
/// as mean ± standard deviation and as the paired difference with its 95 % t-interval, for accuracy, quadratic κ,
/// macro-F1 and the recall of KL4 (3 % of train, where added images should help most). Each seed also trains the same
/// classifier on the generated images alone and tests it on real val: the classification accuracy score, how much grade
/// information the images carry.
/// </summary>
public static class SeededAugmentationBenefit
{
    public static SeededAugmentationReport Run(ClassifierConfig config, int seeds, KneeDataset train, KneeDataset val, KneeDataset synthetic, int? perGrade,
                                               string outDirectory, TextWriter log) =>
        Run(config, seeds, train, val, synthetic, perGrade, outDirectory, log, null)!;

    /// <param name="run">as for <see cref="AugmentationBenefit.Run(ClassifierConfig, KneeDataset, KneeDataset, KneeDataset, int?, string, TextWriter, ClassifierRunOptions?, string?)"/>:
    /// every classifier keeps a checkpoint and the whole verdict continues where it stopped.</param>
    /// <param name="baseline">an earlier seeded verdict's folder whose seed-N real-only arms are adopted (same settings; seeds it has no folder of train here).</param>
    /// <returns>null when the time ran out first.</returns>
    public static SeededAugmentationReport? Run(ClassifierConfig config, int seeds, KneeDataset train, KneeDataset val, KneeDataset synthetic, int? perGrade,
                                                string outDirectory, TextWriter log, ClassifierRunOptions? run, string? baseline = null)
    {
        if (seeds < 2) throw new ArgumentException($"--seeds must be at least 2 for an interval, got {seeds}");
        var chosen = AugmentationBenefit.Chosen(synthetic, perGrade);
        var missing = Enumerable.Range(0, KlGrades.Count).Where(g => !chosen.Any(i => synthetic.Grades[i] == g)).ToArray();
        // A baseline with fewer seeds than asked lends the seeds it has; the others train their real-only arm here, so
        // a verdict grows by seeds without paying again for the ones already trained.
        string? BaselineOf(long seed) => baseline is not null && Directory.Exists(Path.Combine(baseline, $"seed-{seed}")) ? Path.Combine(baseline, $"seed-{seed}") : null;
        if (baseline is not null)
        {
            var lent = Enumerable.Range(0, seeds).Select(k => config.Seed + k).Where(s => BaselineOf(s) is not null).ToArray();
            if (lent.Length == 0)
                throw new ArgumentException($"{baseline}: --baseline holds none of seeds {config.Seed}–{config.Seed + seeds - 1} (no seed-N folder; expected an earlier augment-benefit --out with the same --seed)");
            // Every seed's baseline before the first seed trains: a mismatch found at seed 3 would cost two seeds' arms.
            string dataSha = ClassifierCheckpoint.DataSha256(train, train.Grades, val, val.Grades);
            foreach (long seed in lent)
                if (!File.Exists(Path.ChangeExtension(Path.Combine(outDirectory, $"seed-{seed}", AugmentationBenefit.RealOnlyFile), ".ckpt")))
                    BaselineArm.Check(BaselineOf(seed)!, AugmentationBenefit.Budget(config with { Seed = seed }, train), dataSha);
        }
        var timer = Stopwatch.StartNew();
        var pairs = new List<AugmentationResult>();
        var scores = new List<double>();
        double trainingSeconds = 0;
        var rows = new List<SeedRow>();
        // The Markdown's per-seed figures come from the classifiers themselves, not from the 4-decimal JSON rows, so they
        // read exactly as each seed's augment.md does (0.62348 is 0.623 there, and 0.6235 would print as 0.624).
        var raw = new List<(ClassifierHeader Real, ClassifierHeader Mixed, double? Cas)>();
        for (int k = 0; k < seeds; k++)
        {
            long seed = config.Seed + k;
            string folder = Path.Combine(outDirectory, $"seed-{seed}");
            string? lender = BaselineOf(seed);
            log.WriteLine($"seed {seed} ({k + 1}/{seeds}){(baseline is not null && lender is null ? ": not in --baseline, its real-only arm trains here" : "")}");
            var result = AugmentationBenefit.Run(config with { Seed = seed }, train, val, synthetic, perGrade, folder, log, run, lender);
            if (result is null) return null;
            pairs.Add(result);
            trainingSeconds += result.TrainingSeconds;
            if (missing.Length > 0)
            {
                log.WriteLine($"  no classification accuracy score: the generated set has no KL{string.Join(", KL", missing)} images");
                rows.Add(new SeedRow(seed, result.Report.RealOnly, result.Report.WithSynthetic, null));
                raw.Add((result.RealOnly, result.Augmented, null));
                continue;
            }
            log.WriteLine("  generated images only (classification accuracy score)");
            var syntheticOnly = KneeDataset.FromMemory(config.ImageSize, chosen.Select(i => synthetic.Images[i]).ToArray(), chosen.Select(i => synthetic.Grades[i]).ToArray(), "synthetic");
            var cas = AugmentationBenefit.Arm(config with { Seed = seed, StepsPerEpoch = result.Steps / config.Epochs }, syntheticOnly, val, Path.Combine(folder, AugmentationBenefit.GeneratedOnlyFile), log, run);
            if (cas is null) return null;
            trainingSeconds += cas.Seconds;
            scores.Add(cas.Best.ValAccuracy);
            rows.Add(new SeedRow(seed, result.Report.RealOnly, result.Report.WithSynthetic, Math.Round(cas.Best.ValAccuracy, 4)));
            raw.Add((result.RealOnly, result.Augmented, cas.Best.ValAccuracy));
        }
        SeededFigure Figure(string name, Func<ClassifierHeader, double> of)
        {
            var real = pairs.Select(p => of(p.RealOnly)).ToArray();
            var mixed = pairs.Select(p => of(p.Augmented)).ToArray();
            return new SeededFigure(name, ArmSummary.Of(real), ArmSummary.Of(mixed), PairedDifference.Of(real, mixed));
        }
        var first = pairs[0].Report;
        var report = new SeededAugmentationReport
        {
            Seeds = Enumerable.Range(0, seeds).Select(k => config.Seed + k).ToArray(), Backbone = config.Backbone, ImageSide = config.ImageSize,
            Epochs = first.Epochs, StepsPerEpoch = first.StepsPerEpoch, SyntheticPerGrade = first.SyntheticPerGrade,
            RealPerGrade = train.CountPerGrade(),
            Figures =
            [
                Figure("accuracy", h => h.ValAccuracy),
                Figure("quadratic κ", h => h.ValQuadraticKappa),
                Figure("macro-F1", h => h.ValMacroF1 ?? double.NaN),
                Figure("KL4 recall", h => h.ValRecall[^1]),
            ],
            PerSeed = rows,
            ClassificationAccuracyScore = scores.Count > 0 ? ArmSummary.Of(scores) : null,
            AdoptedRealOnly = pairs.Select((p, k) => (Seed: config.Seed + k, From: p.Report.RealOnlyAdoptedFrom))
                .Where(a => a.From is not null).ToDictionary(a => a.Seed, a => a.From!),
            Seconds = Math.Round(timer.Elapsed.TotalSeconds, 1),
            TrainingSeconds = Math.Round(trainingSeconds, 1),
        };
        ReportJson.Write(Path.Combine(outDirectory, "augment-seeds.json"), report);
        AtomicFile.WriteAllText(Path.Combine(outDirectory, "augment-seeds.md"), Markdown(report, raw));
        foreach (var f in report.Figures)
            log.WriteLine($"{f.Name}: real only {f.RealOnly.Mean:F3} ± {f.RealOnly.StandardDeviation:F3}, with synthetic {f.WithSynthetic.Mean:F3} ± {f.WithSynthetic.StandardDeviation:F3}; "
                + $"paired Δ {f.Difference.Mean:+0.000;-0.000} [{f.Difference.Low:+0.000;-0.000}, {f.Difference.High:+0.000;-0.000}]{(f.Difference.ExcludesZero ? " (excludes 0)" : "")}");
        log.WriteLine((report.ClassificationAccuracyScore is { } score ? $"classification accuracy score {score.Mean:F3} ± {score.StandardDeviation:F3} (real train: {report.Figures[0].RealOnly.Mean:F3}); " : "")
            + $"{timer.Elapsed.TotalSeconds:F0}s here, {report.TrainingSeconds / 60:F0} min of classifier training in all; wrote {Path.Combine(outDirectory, "augment-seeds.json")}");
        return report;
    }

    private static string Markdown(SeededAugmentationReport r, IReadOnlyList<(ClassifierHeader Real, ClassifierHeader Mixed, double? Cas)> perSeed)
    {
        var inv = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("F3", inv);
        string S(double v) => v.ToString("+0.000;-0.000;0.000", inv);
        var sb = new StringBuilder("# Augmentation benefit over seeds\n\n");
        sb.AppendLine($"Classifier {r.Backbone} at {r.ImageSide}², seeds {string.Join(", ", r.Seeds)}; each seed trains both arms with that seed and the same budget "
            + $"({r.Epochs} epochs × {r.StepsPerEpoch} steps). Real train images per grade: {string.Join(" / ", r.RealPerGrade)} ({r.RealPerGrade.Sum()}); "
            + $"generated images added per grade: {string.Join(" / ", r.SyntheticPerGrade)}. Val figures, best epoch by quadratic κ.").AppendLine();
        sb.AppendLine("| figure | real train only | + generated | paired Δ (with − without) | 95 % interval | verdict |").AppendLine("|---|---|---|---|---|---|");
        foreach (var f in r.Figures)
            sb.AppendLine($"| {f.Name} | {F(f.RealOnly.Mean)} ± {F(f.RealOnly.StandardDeviation)} | {F(f.WithSynthetic.Mean)} ± {F(f.WithSynthetic.StandardDeviation)} | {S(f.Difference.Mean)} | "
                + $"[{S(f.Difference.Low)}, {S(f.Difference.High)}] | {(f.Difference.ExcludesZero ? (f.Difference.Mean > 0 ? "helps" : "hurts") : "no difference shown")} |");
        sb.AppendLine().AppendLine("Per seed (val accuracy, quadratic κ; recall KL0 / 1 / 2 / 3 / 4 of the kept epoch):").AppendLine();
        sb.AppendLine("| seed | real train only | + generated | Δ accuracy | generated only (CAS) |").AppendLine("|---|---|---|---|---|");
        string Scores(ClassifierHeader h) => $"{F(h.ValAccuracy)}, {F(h.ValQuadraticKappa)}; {string.Join(" / ", h.ValRecall.Select(x => double.IsNaN(x) ? "–" : x.ToString("F2", inv)))}";
        foreach (var (seed, row) in r.Seeds.Zip(perSeed))
            sb.AppendLine($"| {seed} | {Scores(row.Real)} | {Scores(row.Mixed)} | {S(row.Mixed.ValAccuracy - row.Real.ValAccuracy)} | "
                + $"{(row.Cas is double g ? F(g) : "–")} |");
        if (r.AdoptedRealOnly.Count > 0)
            sb.AppendLine().AppendLine((r.AdoptedRealOnly.Count == r.Seeds.Count ? "The real-only arms were adopted" : $"The real-only arms of seeds {string.Join(", ", r.AdoptedRealOnly.Keys)} were adopted")
                + $" from {string.Join(", ", r.AdoptedRealOnly.Values.Select(Path.GetDirectoryName).Distinct())} (same settings, seeds and images).");
        sb.AppendLine().AppendLine(r.ClassificationAccuracyScore is { } cas
            ? $"Classification accuracy score (trained on generated images only, tested on real val): {F(cas.Mean)} ± {F(cas.StandardDeviation)}, against {F(r.Figures[0].RealOnly.Mean)} for the same classifier trained on real images."
            : "Classification accuracy score: not measured, the generated set does not hold every grade.");
        sb.AppendLine().AppendLine($"Training time: {(r.TrainingSeconds / 60).ToString("F0", inv)} min for the {(r.ClassificationAccuracyScore is null ? 2 : 3) * r.Seeds.Count} classifiers on their own clocks, "
            + "every invocation included (adopted real-only arms count where they were trained).");
        return sb.ToString();
    }
}
