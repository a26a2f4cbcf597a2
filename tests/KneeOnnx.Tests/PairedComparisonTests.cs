using KneeOnnx.Training.Classifier;

namespace KneeOnnx.Tests;

/// <summary>
/// The augmentation verdict's statistics against hand computation on fixed tables, with the Student-t quantiles taken
/// from the printed tables (t(0.975; 2) = 4.3027, t(0.975; 4) = 2.7764), and macro-F1 against a hand-counted confusion.
/// </summary>
public class PairedComparisonTests
{
    [Fact]
    public void ThreeSeedPairsGiveTheHandComputedTInterval()
    {
        var d = PairedDifference.Of([0.60, 0.62, 0.61], [0.63, 0.66, 0.62]);
        // differences 0.03, 0.04, 0.01: mean 0.02667, sd 0.015275, half-width 4.3027 · 0.015275 / √3 = 0.037946
        Assert.Equal(0.026667, d.Mean, 5);
        Assert.Equal(0.015275, d.StandardDeviation, 5);
        Assert.Equal(-0.011279, d.Low, 4);
        Assert.Equal(0.064612, d.High, 4);
        Assert.False(d.ExcludesZero);
        Assert.Equal(3, d.Pairs);
    }

    [Fact]
    public void ConsistentGainsOverFiveSeedsExcludeZero()
    {
        var d = PairedDifference.Of([0.70, 0.68, 0.71, 0.69, 0.72], [0.73, 0.70, 0.74, 0.71, 0.74]);
        // differences 0.03, 0.02, 0.03, 0.02, 0.02: mean 0.024, sd 0.005477, half-width 2.7764 · 0.005477 / √5 = 0.006801
        Assert.Equal(0.024, d.Mean, 6);
        Assert.Equal(0.017199, d.Low, 4);
        Assert.Equal(0.030801, d.High, 4);
        Assert.True(d.ExcludesZero);
    }

    [Fact]
    public void UnpairedOrSingleRunsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => PairedDifference.Of([0.1, 0.2], [0.1]));
        Assert.Throws<ArgumentException>(() => PairedDifference.Of([0.1], [0.2]));
    }

    [Fact]
    public void ArmSummaryIsTheMeanAndSampleStandardDeviation()
    {
        var s = ArmSummary.Of([2, 4, 4, 4, 5, 5, 7, 9]);
        Assert.Equal(5, s.Mean, 12);
        Assert.Equal(Math.Sqrt(32.0 / 7), s.StandardDeviation, 12);
    }

    [Fact]
    public void MacroF1AveragesPerClassF1()
    {
        // truth 0 0 1 1 2 2, predicted 0 1 1 1 2 0: F1 per class 2/4, 4/5, 2/3 → mean 0.655556 (as scikit-learn's average="macro").
        var m = ClassificationMetrics.Of([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], classes: 3);
        Assert.Equal(0.655556, m.MacroF1, 5);
        // A class absent from truth and predictions is left out, one present but never predicted counts 0.
        var n = ClassificationMetrics.Of([0, 0, 1], [0, 0, 0], classes: 3);
        Assert.Equal((2.0 * 2 / (2 * 2 + 1) + 0) / 2, n.MacroF1, 12);
    }
}
