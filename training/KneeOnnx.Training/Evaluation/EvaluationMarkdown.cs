using System.Globalization;
using System.Text;
using KneeOnnx.Training.Classifier;

namespace KneeOnnx.Training.Evaluation;

/// <summary>
/// The one Markdown rendering of an evaluation report: report.md wraps it in a title and its figures, the model card
/// in a section with the command that reproduces it, so the two never quote the same number differently.
/// </summary>
public static class EvaluationMarkdown
{
    public const string FileName = "report.md";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>report.md, beside the figures it links.</summary>
    public static string Document(EvaluationReport report) =>
        "# KneeOnnx evaluation report\n\n" + Body(report)
        + $"![FID per grade]({ReportFigures.FidChart})\n\nGenerated images beside their pixel-nearest training image: {ReportFigures.NearestSheet}.\n";

    /// <summary>The model card's evaluation section.</summary>
    public static string CardSection(EvaluationReport report, string command) =>
        $"## {CardHeading}\n\nReproduce: `{command}`.\n\n" + Body(report);

    /// <summary>The heading of <see cref="CardSection"/> in a model card.</summary>
    public const string CardHeading = "Evaluation on val";

    /// <summary>Every measured figure: generation, FID per grade against its floor, the classifier's view, memorisation, augmentation.</summary>
    public static string Body(EvaluationReport report)
    {
        var sb = new StringBuilder();
        if (report.Generation is { } g)
            sb.AppendLine($"Generated set: {g.PerGrade} images per grade{(g.Sides is { } sides ? $" and side ({sides}: {g.PerGrade * sides.Split(',').Length} per grade)" : "")} from `{Path.GetFileName(g.Model)}` (sha256 {g.ModelSha256[..Math.Min(16, g.ModelSha256.Length)]}…), "
                + $"{g.Sampler}, seed {g.Seed}{(g.Guidance != 1.0 ? $", guidance {g.Guidance.ToString(Inv)}" : "")}{(g.GuidanceInterval is { } gi ? $" at noise levels σ in ({gi}]" : "")}{(g.DistilledGuidance is { } baked ? $", guidance {baked.ToString(Inv)} distilled into the weights (one call per step)" : "")}{(g.GuideModel is { } guide ? $", autoguided by {guide} (sha256 {g.GuideSha256?[..12]})" : "")}, {g.Provider} provider.").AppendLine();
        sb.AppendLine($"Analysis at {report.ImageSide}²: real images brought down to the generated images' size, then both up to 224² the same way for ImageNet ResNet-18 features; "
            + $"{report.Seconds.ToString("F1", Inv)} s.").AppendLine();
        FidTable(sb, report);
        ManifoldTable(sb, report);
        Classifier(sb, report);
        var m = report.Memorisation;
        sb.AppendLine($"Memorisation audit: {m.FlaggedByPixels} generated images closer in pixels to a training image than the 1st percentile of real images' nearest-training distances "
            + $"({F(m.PixelThreshold, 3)}); {m.FlaggedByFeatures} in ResNet-18 feature space. "
            + $"Median nearest-training distance: generated {F(m.GeneratedMedianPixelDistance, 3)}, real {F(m.RealMedianPixelDistance, 3)}.").AppendLine();
        if (report.SideFidelity is { } s) Sides(sb, s);
        if (report.Denoising is { } d) Denoising(sb, d);
        if (report.AugmentBenefit is { } a) Augmentation(sb, a);
        return sb.ToString();
    }

    private static void Denoising(StringBuilder sb, DenoisingReport d)
    {
        sb.AppendLine($"Denoising check ({d.Images} real val images, their own grade and side, noise seed {d.Seed}; one model call per timestep, errors in the model's space): "
            + "a model whose x̂₀ is worse than the average image at high t cannot start an image.").AppendLine();
        sb.AppendLine("| t | ᾱ_t | x̂₀ MSE | average image MSE | ε̂ MSE |").AppendLine("|---|---|---|---|---|");
        foreach (var r in d.Rows)
            sb.AppendLine($"| {r.Timestep} | {r.AlphaBar.ToString("G3", Inv)} | {F(r.DenoisedMse, 4)} | {F(r.AverageImageMse, 4)} | {F(r.NoiseMse, 4)} |");
        sb.AppendLine();
    }

    private static void FidTable(StringBuilder sb, EvaluationReport report)
    {
        bool kid = report.KidRn18 is not null && report.KidFloor is not null;
        sb.AppendLine("| grade | FID-RN18 generated vs real | real-vs-real floor (train sample, same n) | ratio | n generated | n real |"
            + (kid ? " KID-RN18 ×10³ generated vs real (± s.d. over subsets) | KID ×10³ floor |" : ""))
          .AppendLine("|---|---|---|---|---|---|" + (kid ? "---|---|" : ""));
        foreach (var (key, fid) in report.FidRn18)
        {
            double? floor = report.Floor[key];
            var counts = report.Counts[key];
            sb.AppendLine($"| {Grade(key)} | {F(fid, 1)} | {F(floor, 1)} | {Ratio(fid, floor)} | {counts.Generated} | {counts.Real} |"
                + (kid ? $" {Kid(report.KidRn18!.GetValueOrDefault(key))} | {Kid(report.KidFloor!.GetValueOrDefault(key))} |" : ""));
        }
        sb.AppendLine();
        if (kid)
            sb.AppendLine("KID is the unbiased squared MMD of the same features with the kernel (x·y/512 + 1)³ (Bińkowski et al. 2018): unlike FID it does not grow as n shrinks, "
                + "so its floor sits near 0 and generated sets of different sizes compare directly; the spread is over "
                + $"{report.KidRn18!.Values.FirstOrDefault(v => v is not null)?.Subsets ?? KernelDistance.DefaultSubsets} random subsets of m = min(n generated, n real, 1000) from each set.").AppendLine();
    }

    private static void ManifoldTable(StringBuilder sb, EvaluationReport report)
    {
        if (report.Manifold is not { } manifold || report.ManifoldFloor is not { } floor) return;
        int k = manifold.Values.FirstOrDefault(v => v is not null)?.K ?? ManifoldMeasures.DefaultK;
        sb.AppendLine("| grade | precision | recall | density | coverage | the floor's train sample: precision / recall / density / coverage |")
          .AppendLine("|---|---|---|---|---|---|");
        foreach (var (key, m) in manifold)
        {
            var f = floor.GetValueOrDefault(key);
            sb.AppendLine($"| {Grade(key)} | {F(m?.Precision, 3)} | {F(m?.Recall, 3)} | {F(m?.Density, 3)} | {F(m?.Coverage, 3)} | "
                + (f is null ? "–" : $"{F(f.Precision, 3)} / {F(f.Recall, 3)} / {F(f.Density, 3)} / {F(f.Coverage, 3)}") + " |");
        }
        sb.AppendLine().AppendLine($"Fidelity and diversity apart, in the same features (k = {k} nearest neighbours): precision is the share of generated images "
            + "inside the real images' manifold, recall the share of real images inside the generated images' manifold (Kynkäänniemi et al. 2019); "
            + "density (1 when both come from one distribution) and coverage, the share of real images with a generated image among their neighbours, "
            + "are Naeem et al. 2020's versions that outliers cannot inflate. Low recall or coverage beside a floor that is higher: "
            + "the generated images miss part of what real knees of that grade look like.").AppendLine();
    }

    private static string Kid(KernelDistanceEstimate? k) =>
        k is null ? "—" : $"{(k.Mean * 1e3).ToString("F2", Inv)} ± {(k.StandardDeviation * 1e3).ToString("F2", Inv)}";

    private static void Classifier(StringBuilder sb, EvaluationReport report)
    {
        if (report.GradeFidelity is not { } fidelity)
        {
            sb.AppendLine($"Grade fidelity, ordinal check and KL-IS: {report.ClassifierMeasures}.").AppendLine();
            return;
        }
        sb.AppendLine($"Reference classifier: {report.ClassifierMeasures}.").AppendLine();
        sb.AppendLine("| conditioning grade | classified as that grade (generated) | same classifier on real images of that grade | mean predicted grade | n generated |").AppendLine("|---|---|---|---|---|");
        foreach (var (key, f) in fidelity)
            sb.AppendLine($"| {Grade(key)} | {F(f.Generated, 2)} | {F(f.Real, 2)} | {F(f.MeanPredictedGrade, 2)} | {f.N} |");
        sb.AppendLine().AppendLine($"Ordinal check: Spearman ρ between conditioning and predicted grade {F(report.Spearman, 3)}; "
            + $"KL-IS {F(report.KlIs, 3)} (the Inception-Score formula on the KL classifier, range 1–5).").AppendLine();
    }

    private static void Sides(StringBuilder sb, SideFidelity s)
    {
        sb.AppendLine($"Side check ({s.Classifier}): real val images {F(s.RealAccuracy, 3)} correct (n {s.Real}); "
            + (s.GeneratedWithSide > 0 ? $"generated images classified as the side asked for {F(s.Generated, 3)} (n {s.GeneratedWithSide}), {F(s.Ratio, 3)}× the real accuracy (goal ≥ 0.95×)" : "no generated image asked for a side")
            + (s.GeneratedWithoutSide > 0 ? $"; of {s.GeneratedWithoutSide} generated without a side, {F(s.AnySideFractionLeft, 3)} look left" : "") + ".").AppendLine();
    }

    private static void Augmentation(StringBuilder sb, AugmentationReport a)
    {
        sb.AppendLine($"Augmentation benefit (the reference classifier trained twice, same seed and {a.Epochs}×{a.StepsPerEpoch} steps; "
            + $"synthetic images added per grade {string.Join(" / ", a.SyntheticPerGrade)}; details in the report folder's augment/augment.md):").AppendLine();
        sb.AppendLine("| training data | val accuracy | quadratic κ | MAE | recall KL0 / 1 / 2 / 3 / 4 |").AppendLine("|---|---|---|---|---|");
        foreach (var (label, s) in new[] { ("real train", a.RealOnly), ("real + synthetic", a.WithSynthetic) })
            sb.AppendLine($"| {label} | {F(s.Accuracy, 3)} | {F(s.QuadraticKappa, 3)} | {F(s.MeanAbsoluteError, 3)} | {string.Join(" / ", s.Recall.Select(r => F(r, 2)))} |");
        sb.AppendLine();
    }

    private static string Grade(string key) => key == EvaluationReport.AllGrades ? key : "KL" + key;

    /// <summary>How many times the floor the generated set's FID is: 1× is as close as two real samples get.</summary>
    public static string Ratio(double? fid, double? floor) =>
        fid is double f && floor is double fl && fl > 0 ? (f / fl).ToString("F2", Inv) + "×" : "–";

    private static string F(double? value, int decimals) => value is double v ? v.ToString("F" + decimals, Inv) : "–";
}
