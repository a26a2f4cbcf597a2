using MathNet.Numerics.Distributions;

namespace KneeOnnx.Training.Classifier;

/// <summary>Mean and sample standard deviation of one arm's figure over seeds.</summary>
public sealed record ArmSummary(double Mean, double StandardDeviation, int Runs)
{
    public static ArmSummary Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no runs to summarise");
        double mean = values.Average();
        double sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : double.NaN;
        return new ArmSummary(mean, sd, values.Count);
    }
}

/// <summary>
/// The difference "treatment − baseline" of runs paired by seed (same seed, same budget, same val set): the mean of the
/// per-seed differences with its Student-t confidence interval (n − 1 degrees of freedom). Pairing removes what the
/// seed does to both arms alike, which is most of the run-to-run spread a single pair of runs cannot tell from an effect.
/// </summary>
public sealed record PairedDifference(double Mean, double StandardDeviation, double Low, double High, double Confidence, int Pairs)
{
    /// <summary>True when the interval lies wholly above or wholly below zero.</summary>
    public bool ExcludesZero => Low > 0 || High < 0;

    public static PairedDifference Of(IReadOnlyList<double> baseline, IReadOnlyList<double> treatment, double confidence = 0.95)
    {
        if (baseline.Count != treatment.Count) throw new ArgumentException($"{baseline.Count} baseline runs but {treatment.Count} treatment runs: they pair by seed");
        if (baseline.Count < 2) throw new ArgumentException("an interval needs at least two paired runs");
        var differences = treatment.Zip(baseline, (t, b) => t - b).ToArray();
        var summary = ArmSummary.Of(differences);
        double half = StudentT.InvCDF(0, 1, differences.Length - 1, 0.5 + confidence / 2) * summary.StandardDeviation / Math.Sqrt(differences.Length);
        return new PairedDifference(summary.Mean, summary.StandardDeviation, summary.Mean - half, summary.Mean + half, confidence, differences.Length);
    }
}
