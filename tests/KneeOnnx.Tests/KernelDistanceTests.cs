using KneeOnnx.Randomness;
using KneeOnnx.Training.Evaluation;

namespace KneeOnnx.Tests;

public class KernelDistanceTests
{
    // One-dimensional features make the cubic kernel k(x, y) = (xy + 1)³ = x³y³ + 3x²y² + 3xy + 1, so for independent
    // draws E k = E x³ E y³ + 3 E x² E y² + 3 E x E y + 1 and the population MMD² of N(μ₁, s₁²) and N(μ₂, s₂²) is
    // (a₁ − a₂)² + 3 (b₁ − b₂)² + 3 (μ₁ − μ₂)², with a = μ³ + 3μs² and b = μ² + s² — Gaussian moments, not the estimator.
    private static double PopulationMmd2(double m1, double s1, double m2, double s2)
    {
        static double A(double m, double s) => m * m * m + 3 * m * s * s;
        static double B(double m, double s) => m * m + s * s;
        return Math.Pow(A(m1, s1) - A(m2, s2), 2) + 3 * Math.Pow(B(m1, s1) - B(m2, s2), 2) + 3 * (m1 - m2) * (m1 - m2);
    }

    private static float[][] Normal(long seed, long stream, int n, double mean, double sd)
    {
        var g = GaussianStream.For(seed, stream, 0);
        return Enumerable.Range(0, n).Select(_ => new[] { (float)(mean + sd * g.Next()) }).ToArray();
    }

    private static (double Mean, double StandardError) OverRepeats(int repeats, Func<int, double> estimate)
    {
        double[] v = Enumerable.Range(0, repeats).Select(estimate).ToArray();
        double mean = v.Average();
        return (mean, Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (repeats - 1) / repeats));
    }

    [Fact]
    public void TheEstimateIsUnbiasedForTheClosedFormDistanceOfTwoGaussians()
    {
        double expected = PopulationMmd2(0, 0.5, 0.2, 0.5); // 0.149764
        var (mean, se) = OverRepeats(100, r => KernelDistance.Unbiased(Normal(3, 2 * r, 1200, 0, 0.5), Normal(3, 2 * r + 1, 800, 0.2, 0.5)));
        Assert.True(se < 0.03 * expected, $"standard error {se} too large to test anything");
        Assert.True(Math.Abs(mean - expected) < 4 * se, $"mean over repeats {mean:F5} ± {se:F5}, population {expected:F5}");
    }

    [Fact]
    public void TheSameDistributionScoresZeroOnAverageEvenForTinySets()
    {
        // FID of two samples of one distribution is positive and grows as n shrinks; an unbiased MMD² is 0 on average.
        // Keeping k(xᵢ, xᵢ) in the within-set means would add (E k(x, x) − E k(x, x'))(1/n + 1/m) ≈ 0.9 here.
        var (mean, se) = OverRepeats(400, r => KernelDistance.Unbiased(Normal(5, 2 * r, 12, 0.1, 0.7), Normal(5, 2 * r + 1, 9, 0.1, 0.7)));
        Assert.True(Math.Abs(mean) < 4 * se, $"mean over repeats {mean:F5} ± {se:F5}, expected 0");
        Assert.True(se < 0.05, $"standard error {se}");
    }

    [Fact]
    public void SubsetsAsLargeAsBothSetsGiveTheWholeSetEstimateWithNoSpread()
    {
        float[][] x = Normal(7, 0, 40, 0, 1), y = Normal(7, 1, 40, 0.3, 1);
        var whole = KernelDistance.OverSubsets(x, y, seed: 1, subsets: 5, maxSubsetSize: 1000)!;
        Assert.Equal(40, whole.SubsetSize);
        Assert.Equal(KernelDistance.Unbiased(x, y), whole.Mean, 12);
        Assert.Equal(0, whole.StandardDeviation, 12);
        var part = KernelDistance.OverSubsets(x, y, seed: 1, subsets: 20, maxSubsetSize: 10)!;
        Assert.True(part.StandardDeviation > 0);
        Assert.Equal(part, KernelDistance.OverSubsets(x, y, seed: 1, subsets: 20, maxSubsetSize: 10));
        Assert.Null(KernelDistance.OverSubsets(x, [[1f]], seed: 1));
    }

    [Fact]
    public void TheKernelScalesTheDotProductByTheFeatureSize()
    {
        // Two 4-d features repeated: with x·y/d, repeating a 1-d problem's coordinates d times leaves every kernel value,
        // and so the estimate, unchanged (the evaluator's 512-d features rely on the same scaling).
        float[][] x = Normal(9, 0, 30, 0, 0.5), y = Normal(9, 1, 25, 0.2, 0.5);
        static float[][] Repeat(float[][] v) => v.Select(f => new[] { f[0], f[0], f[0], f[0] }).ToArray();
        Assert.Equal(KernelDistance.Unbiased(x, y), KernelDistance.Unbiased(Repeat(x), Repeat(y)), 9);
    }
}
