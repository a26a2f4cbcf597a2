using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KneeOnnx.IO;
using KneeOnnx.Training.Reports;

namespace KneeOnnx.Training.Classifier;

/// <summary>One figure of two generated sets' augmented arms over the same seeds, and their paired difference (second − first).</summary>
public sealed record ComparedFigure(string Name, ArmSummary RealOnly, ArmSummary First, ArmSummary Second, PairedDifference Difference);

/// <summary>One seed's figures in both verdicts (accuracy, quadratic κ, macro-F1, KL4 recall; CAS where both measured it).</summary>
public sealed record ComparedSeed(long Seed, double[] RealOnly, double[] First, double[] Second, double? FirstGeneratedOnly, double? SecondGeneratedOnly);

/// <summary>augment-compare.json: which of two generated sets helps the same classifier more.</summary>
public sealed record AugmentationComparisonReport
{
    public required string First { get; init; }
    public required string Second { get; init; }
    /// <summary>The generated folder each verdict added, as its seed folders' augment.json name it.</summary>
    public required string FirstGenerated { get; init; }
    public required string SecondGenerated { get; init; }
    public required IReadOnlyList<int> FirstPerGrade { get; init; }
    public required IReadOnlyList<int> SecondPerGrade { get; init; }
    public required IReadOnlyList<int> RealPerGrade { get; init; }
    public required IReadOnlyList<long> Seeds { get; init; }
    /// <summary>Seeds finished in only one of the two verdicts: they cannot be paired and are left out.</summary>
    public required IReadOnlyList<long> Unpaired { get; init; }
    public required IReadOnlyList<ComparedFigure> Figures { get; init; }
    public required IReadOnlyList<ComparedSeed> PerSeed { get; init; }
}

/// <summary>
/// Two generated sets judged against the same real-only classifiers (the second verdict run with --baseline pointing at
/// the first, or both at a third): the augmented arms pair by seed — same seed, budget, real images and val set — so
/// their per-seed difference is the difference the generated sets make, with the run-to-run noise that both arms share
/// taken out. This answers what a user tuning the generator asks (more steps? less guidance?) with the interval the
/// single verdicts' overlapping ranges cannot give. Only finished classifiers are read; nothing is trained.
/// </summary>
public static class AugmentationComparison
{
    private static readonly string[] FigureNames = ["accuracy", "quadratic κ", "macro-F1", "KL4 recall"];
    public const string CasFigure = "CAS (generated only)";

    public static AugmentationComparisonReport Run(string first, string second, string outDirectory, TextWriter log)
    {
        var firstSeeds = FinishedSeeds(first, "--first");
        var secondSeeds = FinishedSeeds(second, "--second");
        var seeds = firstSeeds.Keys.Intersect(secondSeeds.Keys).Order().ToArray();
        if (seeds.Length < 2)
            throw new ArgumentException($"{second}: shares {seeds.Length} finished seed{(seeds.Length == 1 ? "" : "s")} with {first} (seeds {Seeds(firstSeeds.Keys)} against {Seeds(secondSeeds.Keys)}); a paired interval needs at least two");
        var unpaired = firstSeeds.Keys.Union(secondSeeds.Keys).Except(seeds).Order().ToArray();

        var rows = new List<ComparedSeed>();
        AugmentationReport? firstReport = null, secondReport = null;
        foreach (long seed in seeds)
        {
            string a = firstSeeds[seed], b = secondSeeds[seed];
            // The pairing rests on one real-only classifier per seed: the second verdict adopted the first's (or both a third's).
            if (!Sha256(Path.Combine(a, AugmentationBenefit.RealOnlyFile)).SequenceEqual(Sha256(Path.Combine(b, AugmentationBenefit.RealOnlyFile))))
                throw new ArgumentException($"{Path.Combine(b, AugmentationBenefit.RealOnlyFile)}: not the real-only classifier of {Path.Combine(a, AugmentationBenefit.RealOnlyFile)}; "
                    + "compare verdicts run against the same real-only arms (augment-benefit --baseline)");
            string ca = ConfigOf(a, AugmentationBenefit.AugmentedFile), cb = ConfigOf(b, AugmentationBenefit.AugmentedFile);
            if (ca != cb)
                throw new ArgumentException($"{Path.ChangeExtension(Path.Combine(b, AugmentationBenefit.AugmentedFile), ".ckpt")}: trained with other settings than {first}'s seed {seed} ({cb} against {ca})");
            firstReport ??= ReadReport(a);
            secondReport ??= ReadReport(b);
            var real = ClassifierFile.ReadHeader(Path.Combine(a, AugmentationBenefit.RealOnlyFile));
            rows.Add(new ComparedSeed(seed, Figures(real), Figures(ClassifierFile.ReadHeader(Path.Combine(a, AugmentationBenefit.AugmentedFile))),
                Figures(ClassifierFile.ReadHeader(Path.Combine(b, AugmentationBenefit.AugmentedFile))), GeneratedOnly(a), GeneratedOnly(b)));
        }

        var figures = new List<ComparedFigure>();
        for (int f = 0; f < FigureNames.Length; f++)
        {
            var real = rows.Select(r => r.RealOnly[f]).ToArray();
            var x = rows.Select(r => r.First[f]).ToArray();
            var y = rows.Select(r => r.Second[f]).ToArray();
            if (x.Concat(y).Any(double.IsNaN)) continue; // macro-F1 is missing from classifiers written before it was recorded
            figures.Add(new ComparedFigure(FigureNames[f], ArmSummary.Of(real), ArmSummary.Of(x), ArmSummary.Of(y), PairedDifference.Of(x, y)));
        }
        if (rows.All(r => r.FirstGeneratedOnly is not null && r.SecondGeneratedOnly is not null))
        {
            var x = rows.Select(r => r.FirstGeneratedOnly!.Value).ToArray();
            var y = rows.Select(r => r.SecondGeneratedOnly!.Value).ToArray();
            figures.Add(new ComparedFigure(CasFigure, ArmSummary.Of(rows.Select(r => r.RealOnly[0]).ToArray()), ArmSummary.Of(x), ArmSummary.Of(y), PairedDifference.Of(x, y)));
        }

        var report = new AugmentationComparisonReport
        {
            First = Path.GetFullPath(first), Second = Path.GetFullPath(second),
            FirstGenerated = firstReport!.SyntheticDirectory, SecondGenerated = secondReport!.SyntheticDirectory,
            FirstPerGrade = firstReport.SyntheticPerGrade, SecondPerGrade = secondReport.SyntheticPerGrade, RealPerGrade = firstReport.RealPerGrade,
            Seeds = seeds, Unpaired = unpaired, Figures = figures, PerSeed = rows,
        };
        Directory.CreateDirectory(outDirectory);
        ReportJson.Write(Path.Combine(outDirectory, "augment-compare.json"), report);
        AtomicFile.WriteAllText(Path.Combine(outDirectory, "augment-compare.md"), Markdown(report));
        foreach (var f in figures)
            log.WriteLine($"{f.Name}: first {f.First.Mean:F3} ± {f.First.StandardDeviation:F3}, second {f.Second.Mean:F3} ± {f.Second.StandardDeviation:F3}; "
                + $"paired Δ (second − first) {f.Difference.Mean:+0.000;-0.000} [{f.Difference.Low:+0.000;-0.000}, {f.Difference.High:+0.000;-0.000}]{(f.Difference.ExcludesZero ? " (excludes 0)" : "")}");
        log.WriteLine($"{seeds.Length} paired seeds{(unpaired.Length > 0 ? $" ({Seeds(unpaired)} in one verdict only, left out)" : "")}; wrote {Path.Combine(outDirectory, "augment-compare.json")}");
        return report;
    }

    /// <summary>Seed → folder for every seed-N folder whose augmented arm finished its epochs.</summary>
    private static Dictionary<long, string> FinishedSeeds(string verdict, string option)
    {
        if (!Directory.Exists(verdict)) throw new DirectoryNotFoundException($"{verdict}: {option} folder not found");
        var seeds = new Dictionary<long, string>();
        foreach (string folder in Directory.EnumerateDirectories(verdict, "seed-*"))
        {
            if (!long.TryParse(Path.GetFileName(folder)["seed-".Length..], NumberStyles.Integer, CultureInfo.InvariantCulture, out long seed)) continue;
            string checkpoint = Path.ChangeExtension(Path.Combine(folder, AugmentationBenefit.AugmentedFile), ".ckpt");
            if (Finished(checkpoint) && File.Exists(Path.Combine(folder, AugmentationBenefit.RealOnlyFile)) && File.Exists(Path.Combine(folder, "augment.json"))) seeds[seed] = folder;
        }
        if (seeds.Count == 0)
            throw new ArgumentException($"{verdict}: {option} holds no finished seed-N verdict (expected the --out of augment-benefit --seeds 2 or more)");
        return seeds;
    }

    private static string ConfigOf(string folder, string file)
    {
        var state = ClassifierCheckpoint.ReadState(Path.ChangeExtension(Path.Combine(folder, file), ".ckpt"));
        var config = JsonSerializer.Deserialize<ClassifierConfig>(state.Config)!;
        return ClassifierCheckpoint.ConfigKey(config);
    }

    private static AugmentationReport ReadReport(string folder) =>
        JsonSerializer.Deserialize<AugmentationReport>(File.ReadAllText(Path.Combine(folder, "augment.json")), ReportJson.Options)
        ?? throw new InvalidDataException($"{Path.Combine(folder, "augment.json")}: empty report");

    private static double[] Figures(ClassifierHeader h) => [h.ValAccuracy, h.ValQuadraticKappa, h.ValMacroF1 ?? double.NaN, h.ValRecall[^1]];

    /// <summary>The generated-only classifier's val accuracy once it has trained all its epochs (its file holds the best epoch so far before that); else null.</summary>
    private static double? GeneratedOnly(string folder)
    {
        string file = Path.Combine(folder, AugmentationBenefit.GeneratedOnlyFile);
        return File.Exists(file) && Finished(Path.ChangeExtension(file, ".ckpt")) ? ClassifierFile.ReadHeader(file).ValAccuracy : null;
    }

    private static bool Finished(string checkpoint)
    {
        if (!File.Exists(checkpoint)) return false;
        var state = ClassifierCheckpoint.ReadState(checkpoint);
        return JsonSerializer.Deserialize<ClassifierConfig>(state.Config) is { } config && state.EpochsDone >= config.Epochs;
    }

    private static byte[] Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return SHA256.HashData(stream);
    }

    private static string Seeds(IEnumerable<long> seeds) => string.Join(", ", seeds.Order());

    private static string Markdown(AugmentationComparisonReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("F3", inv);
        string S(double v) => v.ToString("+0.000;-0.000;0.000", inv);
        var sb = new StringBuilder("# Two generated sets against the same real-only classifiers\n\n");
        sb.AppendLine($"First: {r.FirstGenerated} ({string.Join(" / ", r.FirstPerGrade)} per grade; verdict {r.First}). Second: {r.SecondGenerated} "
            + $"({string.Join(" / ", r.SecondPerGrade)} per grade; verdict {r.Second}). Real train images per grade: {string.Join(" / ", r.RealPerGrade)} ({r.RealPerGrade.Sum()}). "
            + $"Seeds {string.Join(", ", r.Seeds)}, each sharing its real-only classifier between the two verdicts"
            + (r.Unpaired.Count > 0 ? $"; seeds {string.Join(", ", r.Unpaired)} finished in one verdict only and are left out" : "") + ". Val figures, best epoch by quadratic κ.").AppendLine();
        sb.AppendLine("| figure | real train only | + first set | + second set | paired Δ (second − first) | 95 % interval | verdict |").AppendLine("|---|---|---|---|---|---|---|");
        foreach (var f in r.Figures)
            sb.AppendLine($"| {f.Name} | {F(f.RealOnly.Mean)} ± {F(f.RealOnly.StandardDeviation)} | {F(f.First.Mean)} ± {F(f.First.StandardDeviation)} | {F(f.Second.Mean)} ± {F(f.Second.StandardDeviation)} | "
                + $"{S(f.Difference.Mean)} | [{S(f.Difference.Low)}, {S(f.Difference.High)}] | {(f.Difference.ExcludesZero ? (f.Difference.Mean > 0 ? "second better" : "first better") : "no difference shown")} |");
        sb.AppendLine().AppendLine(r.Figures.Any(f => f.Name == CasFigure)
            ? "The CAS row trains on the generated images alone; its first column is the real-only accuracy for scale."
            : "CAS not compared: not every seed of both verdicts has a finished generated-only classifier.").AppendLine();
        sb.AppendLine("Per seed (accuracy, quadratic κ):").AppendLine();
        sb.AppendLine("| seed | real train only | + first set | + second set | Δ κ (second − first) |").AppendLine("|---|---|---|---|---|");
        foreach (var s in r.PerSeed)
            sb.AppendLine($"| {s.Seed} | {F(s.RealOnly[0])}, {F(s.RealOnly[1])} | {F(s.First[0])}, {F(s.First[1])} | {F(s.Second[0])}, {F(s.Second[1])} | {S(s.Second[1] - s.First[1])} |");
        return sb.ToString();
    }
}
