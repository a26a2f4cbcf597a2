using KneeOnnx.Imaging;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Evaluation;
using MathNet.Numerics.LinearAlgebra;

namespace KneeOnnx.Tests;

public class FrechetDistanceTests
{
    private static FeatureStatistics Stats(double[] mean, double[,] cov) =>
        new(Vector<double>.Build.DenseOfArray(mean), Matrix<double>.Build.DenseOfArray(cov), 1000);

    [Fact]
    public void DiagonalGaussiansMatchTheClosedForm()
    {
        // |μ₁−μ₂|² = 1 + 4; per axis (√σ₁ − √σ₂)²: (1 − 2)² + (2 − 3)² = 2; total 7.
        double d = FrechetDistance.Between(Stats([0, 0], new double[,] { { 1, 0 }, { 0, 4 } }), Stats([1, 2], new double[,] { { 4, 0 }, { 0, 9 } }));
        Assert.Equal(7.0, d, 9);
    }

    [Fact]
    public void NonCommutingCovariancesMatchTheTwoByTwoClosedForm()
    {
        // For 2×2 SPD matrices, Tr((Σ₁Σ₂)^½) = √(Tr(Σ₁Σ₂) + 2√det(Σ₁Σ₂)), independent of any eigen-solver.
        var s1 = new double[,] { { 2, 0.7 }, { 0.7, 1 } };
        var s2 = new double[,] { { 1, -0.4 }, { -0.4, 3 } };
        var m1 = Matrix<double>.Build.DenseOfArray(s1);
        var m2 = Matrix<double>.Build.DenseOfArray(s2);
        var p = m1 * m2;
        double cross = Math.Sqrt(p.Trace() + 2 * Math.Sqrt(p.Determinant()));
        double expected = 0.5 * 0.5 + 1.5 * 1.5 + m1.Trace() + m2.Trace() - 2 * cross;
        Assert.Equal(expected, FrechetDistance.Between(Stats([0, 1], s1), Stats([0.5, -0.5], s2)), 9);
    }

    [Fact]
    public void FeatureSetsWithHandComputableStatisticsMatchTheClosedForm()
    {
        // A: the four points (±1, 0), (0, ±1): mean 0, unbiased covariance (2/3)·I.
        // B = 2·A + (3, 4): mean (3, 4), covariance (8/3)·I. d² = 3² + 4² + 2·(√(2/3) − √(8/3))² = 25 + 4/3.
        float[][] a = [[-1, 0], [1, 0], [0, -1], [0, 1]];
        var b = a.Select(p => new[] { 2 * p[0] + 3, 2 * p[1] + 4 }).ToList();
        Assert.Equal(25 + 4.0 / 3, FrechetDistance.Between(FeatureStatistics.Of(a), FeatureStatistics.Of(b)), 9);
    }

    [Fact]
    public void IdenticalSetsAreAtDistanceZero()
    {
        var rng = new Random(3);
        var features = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, 16).Select(_ => (float)rng.NextDouble()).ToArray()).ToList();
        var stats = FeatureStatistics.Of(features);
        Assert.InRange(FrechetDistance.Between(stats, stats), 0, 1e-8);
    }

    [Fact]
    public void SampledGaussiansApproachTheirPopulationDistance()
    {
        var rng = new Random(11);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        // Set A ~ N(0, I), set B ~ N((1,0,0), diag(4,1,1)): population distance 1 + (2 − 1)² = 2.
        var a = Enumerable.Range(0, 20_000).Select(_ => new[] { (float)Normal(), (float)Normal(), (float)Normal() }).ToList();
        var b = Enumerable.Range(0, 20_000).Select(_ => new[] { (float)(1 + 2 * Normal()), (float)Normal(), (float)Normal() }).ToList();
        Assert.InRange(FrechetDistance.Between(FeatureStatistics.Of(a), FeatureStatistics.Of(b)), 1.9, 2.1);
    }
}

public class ResNet18FeatureTests
{
    [Fact]
    public void FeaturesOfAPngWrittenByTheGeneratorEqualThoseOfTheSamePixelsReadFromDisk()
    {
        using var dir = new TempDirectory();
        using var features = new ResNet18Features();
        var pixels = SyntheticKnees.Pixels(3, 1, 64).Select(PixelScale.ToModel).ToArray();
        string path = dir.Combine("x.png");
        GrayPngWriter.Write(path, pixels, 64);
        var fromDisk = new GrayImageReader().ReadScaled(path, 64);
        var a = features.Of(pixels, 64, 64);
        var b = features.Of(fromDisk, 64, 64);
        Assert.Equal(ResNet18Features.Dimension, a.Length);
        Assert.Equal(a, b);
        // An inverted image (what a uint8 wrap would produce) is far away in feature space.
        var inverted = features.Of(pixels.Select(v => -v).ToArray(), 64, 64);
        double shift = Math.Sqrt(a.Zip(inverted).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
        double norm = Math.Sqrt(a.Sum(v => v * v));
        Assert.True(shift > 0.1 * norm, $"inversion moved features by only {shift:F3} (norm {norm:F3})");
    }
}
