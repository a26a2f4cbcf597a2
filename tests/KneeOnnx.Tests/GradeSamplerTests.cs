using KneeOnnx.Randomness;
using KneeOnnx.Training.Data;

namespace KneeOnnx.Tests;

public class GradeSamplerTests
{
    // The real train split's imbalance: grade 4 is 3% of the images.
    private static readonly int[] RealCounts = [2286, 1046, 1516, 757, 173];

    private static int[] Grades() => RealCounts.SelectMany((n, g) => Enumerable.Repeat(g, n)).ToArray();

    private static double[] DrawFrequencies(GradeSampler sampler, int[] grades, int draws)
    {
        var counts = new double[5];
        var rng = new SplitMix64(42);
        for (int i = 0; i < draws; i++) counts[grades[sampler.Next(ref rng)]]++;
        return counts.Select(c => c / draws).ToArray();
    }

    [Fact]
    public void BalancedDrawsEveryGradeEvenly()
    {
        var grades = Grades();
        var freq = DrawFrequencies(new GradeSampler(grades, Balance.Balanced), grades, 50_000);
        // Binomial sd at p=0.2, n=50k is 0.0018; 0.01 is > 5 sd.
        Assert.All(freq, f => Assert.InRange(f, 0.19, 0.21));
    }

    [Fact]
    public void NoneFollowsTheDataAndSqrtLiesBetween()
    {
        var grades = Grades();
        var none = DrawFrequencies(new GradeSampler(grades, Balance.None), grades, 50_000);
        Assert.InRange(none[4], 0.026, 0.034);
        var sqrt = new GradeSampler(grades, Balance.Sqrt).GradeProbabilities;
        double expected4 = Math.Sqrt(173) / RealCounts.Sum(c => Math.Sqrt(c));
        Assert.Equal(expected4, sqrt[4], 12);
        Assert.InRange(sqrt[4], none[4], 0.2);
    }

    [Fact]
    public void DrawsCoverEveryImageOfARareGrade()
    {
        var grades = Grades();
        var sampler = new GradeSampler(grades, Balance.Balanced);
        var rng = new SplitMix64(7);
        var seen = new HashSet<int>();
        for (int i = 0; i < 20_000; i++)
        {
            int index = sampler.Next(ref rng);
            if (grades[index] == 4) seen.Add(index);
        }
        Assert.Equal(173, seen.Count);
    }

    [Fact]
    public void UnknownBalanceIsRejected() =>
        Assert.Throws<ArgumentException>(() => new GradeSampler([0, 1], "weird"));
}
