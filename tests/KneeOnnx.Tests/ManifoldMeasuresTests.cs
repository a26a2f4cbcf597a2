using KneeOnnx.Randomness;
using KneeOnnx.Training.Evaluation;

namespace KneeOnnx.Tests;

public class ManifoldMeasuresTests
{
    private static float[][] Points(params double[] xs) => xs.Select(x => new[] { (float)x }).ToArray();

    private static float[][] Normal(long seed, long stream, int n, int dims, double shift = 0, double sd = 1)
    {
        var g = GaussianStream.For(seed, stream, 0);
        return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, dims).Select(_ => (float)(shift + sd * g.Next())).ToArray()).ToArray();
    }

    /// <summary>
    /// Worked by hand with k = 1. Real 0, 1, 2, 3, 10 (nearest-neighbour radii 1, 1, 1, 1, 7); generated 0.5, 2.2, 20
    /// (radii 1.7, 1.7, 17.8). Precision 2/3: 0.5 and 2.2 fall in real balls, 20 in none. Recall 1: 10 is reached only by
    /// the outlier 20's wide ball, the inflation density and coverage were made to avoid. Density 4/3: 0.5 lies in the
    /// balls of 0 and 1, 2.2 in those of 2 and 3 (7.8 from 10 is outside its radius 7). Coverage 4/5: every real ball
    /// but 10's holds a generated point.
    /// </summary>
    [Fact]
    public void AHandWorkedOneDimensionalCase()
    {
        var m = ManifoldMeasures.Of(Points(0, 1, 2, 3, 10), Points(0.5, 2.2, 20), k: 1)!;
        Assert.Equal(2.0 / 3, m.Precision, 12);
        Assert.Equal(1.0, m.Recall, 12);
        Assert.Equal(4.0 / 3, m.Density, 12);
        Assert.Equal(0.8, m.Coverage, 12);
        Assert.Equal(1, m.K);
    }

    /// <summary>
    /// Naeem et al. 2020 (Lemmas 1 and 2) for two samples of one distribution, N real and M generated: the expected
    /// density is 1, and the expected coverage 1 − Π_{i=1..k} (N − i)/(N − i + M) (a real point is uncovered when its k
    /// nearest among the other N − 1 real and M generated points are all real). Averaged over repeats and checked
    /// against both within four standard errors.
    /// </summary>
    [Fact]
    public void OneDistributionMeetsThePublishedExpectationsOfDensityAndCoverage()
    {
        const int n = 120, m = 80, k = 5, repeats = 200;
        double expectedCoverage = 1 - Enumerable.Range(1, k).Aggregate(1.0, (p, i) => p * (n - i) / (n - i + m));
        var runs = Enumerable.Range(0, repeats).Select(r => ManifoldMeasures.Of(Normal(11, 2 * r, n, 4), Normal(11, 2 * r + 1, m, 4), k)!).ToArray();
        foreach (var (name, values, expected) in new[] { ("density", runs.Select(x => x.Density).ToArray(), 1.0), ("coverage", runs.Select(x => x.Coverage).ToArray(), expectedCoverage) })
        {
            double mean = values.Average();
            double se = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (repeats - 1) / repeats);
            Assert.True(se < 0.01, $"{name}: standard error {se} too large to test anything");
            Assert.True(Math.Abs(mean - expected) < 4 * se, $"{name}: mean {mean:F4} ± {se:F4}, expected {expected:F4}");
        }
    }

    /// <summary>
    /// A generator that collapsed onto a corner of the real distribution keeps its precision and loses its recall and
    /// coverage; one far from it has none of the four. FID would call both "far" without saying which way.
    /// </summary>
    [Fact]
    public void ACollapsedSetIsPreciseButNotDiverseAndADistantOneIsNeither()
    {
        var real = Normal(5, 0, 300, 3);
        var collapsed = Normal(5, 1, 200, 3, shift: 0.7, sd: 0.05);
        var c = ManifoldMeasures.Of(real, collapsed)!;
        Assert.True(c.Precision > 0.9, $"precision {c.Precision}");
        Assert.True(c.Recall < 0.1, $"recall {c.Recall}");
        Assert.True(c.Coverage < 0.1, $"coverage {c.Coverage}");

        var distant = ManifoldMeasures.Of(real, Normal(5, 2, 200, 3, shift: 20))!;
        Assert.Equal((0.0, 0.0, 0.0, 0.0), (distant.Precision, distant.Recall, distant.Density, distant.Coverage));
    }

    [Fact]
    public void TooFewVectorsForTheKthNeighbourGiveNoEstimate()
    {
        Assert.Null(ManifoldMeasures.Of(Points(0, 1, 2, 3, 4), Points(0, 1, 2, 3, 4, 5), k: 5));
        Assert.NotNull(ManifoldMeasures.Of(Points(0, 1, 2, 3, 4, 5), Points(0, 1, 2, 3, 4, 5), k: 5));
        Assert.Throws<ArgumentException>(() => ManifoldMeasures.Of(Points(0, 1, 2), [[0f, 1f], [1f, 1f], [2f, 2f]], k: 1));
    }
}
