using KneeOnnx.Training.Data;

namespace KneeOnnx.Tests;

public class StratifiedSubsetTests
{
    // Grade 0 ten times, grade 1 three times, grade 3 once, interleaved.
    private static readonly int[] Grades = [0, 1, 0, 0, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0];

    [Theory]
    [InlineData(0.5, 5, 2, 1)]  // 5 of 10; 1.5 of 3 rounds up to 2; 0.5 of 1 rounds to 1
    [InlineData(0.3, 3, 1, 1)]  // 0.9 of 3 → 1; 0.3 of 1 → 0, but every grade keeps one
    [InlineData(1.0, 10, 3, 1)]
    public void KeepsTheShareOfEveryGradeAndAtLeastOneImage(double fraction, int zeros, int ones, int threes)
    {
        var kept = StratifiedSubset.Indexes(Grades, fraction);
        Assert.Equal(kept.Order(), kept);
        Assert.Equal(kept.Length, kept.Distinct().Count());
        Assert.Equal((zeros, ones, threes, 0), (kept.Count(i => Grades[i] == 0), kept.Count(i => Grades[i] == 1), kept.Count(i => Grades[i] == 3), kept.Count(i => Grades[i] == 2)));
    }

    [Fact]
    public void TheSameShareIsTheSameImagesAndAnotherSeedDrawsOthers()
    {
        var grades = Enumerable.Range(0, 200).Select(i => i % 5).ToArray();
        Assert.Equal(StratifiedSubset.Indexes(grades, 0.2), StratifiedSubset.Indexes(grades, 0.2));
        Assert.NotEqual(StratifiedSubset.Indexes(grades, 0.2), StratifiedSubset.Indexes(grades, 0.2, seed: 1));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void AShareOutsideZeroToOneIsRefused(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedSubset.Indexes(Grades, fraction));
}
