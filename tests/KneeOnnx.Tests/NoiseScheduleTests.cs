using KneeOnnx.Diffusion;

namespace KneeOnnx.Tests;

public class NoiseScheduleTests
{
    [Fact]
    public void LinearScheduleMatchesTheReport()
    {
        var s = NoiseSchedule.Default;
        Assert.Equal(1000, s.TrainTimesteps);
        Assert.Equal(1e-4, s.Betas[0], 15);
        Assert.Equal(0.02, s.Betas[999], 15);
        Assert.Equal(1e-4 + (0.02 - 1e-4) * 500 / 999, s.Betas[500], 15);
        // ᾱ_T for this schedule is about 4.04e-5 (Ho et al. report x_T ≈ pure noise).
        Assert.InRange(s.AlphaBars[999], 4.0e-5, 4.1e-5);
    }

    [Fact]
    public void AlphaBarIsTheRunningProduct()
    {
        var s = NoiseSchedule.Linear(50, 1e-3, 0.05);
        double product = 1;
        for (int t = 0; t < 50; t++)
        {
            product *= 1 - s.Betas[t];
            Assert.Equal(product, s.AlphaBars[t], 14);
        }
        Assert.Equal(1.0, s.AlphaBarAt(-1));
    }

    [Fact]
    public void CosineScheduleFollowsItsClosedForm()
    {
        var s = NoiseSchedule.Cosine(1000);
        static double F(double u) => Math.Pow(Math.Cos((u + 0.008) / 1.008 * Math.PI / 2), 2);
        // Unclipped steps reproduce ᾱ_t = f(t/T)/f(0) exactly.
        Assert.Equal(F(0.5) / F(0), s.AlphaBars[499], 10);
        Assert.Equal(0.999, s.Betas[999], 12);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void RejectsNonPositiveTimesteps(int t) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseSchedule.Linear(t, 1e-4, 0.02));

    [Fact]
    public void DdpmPosteriorMatchesHoEtAlForAdjacentSteps()
    {
        var s = NoiseSchedule.Linear(10, 0.1, 0.2);
        int t = 5;
        double beta = s.Betas[t], ab = s.AlphaBars[t], abPrev = s.AlphaBars[t - 1];
        var c = DdpmPosterior.For(s, t, t - 1);
        Assert.Equal(Math.Sqrt(abPrev) * beta / (1 - ab), c.MeanFromX0, 12);
        Assert.Equal(Math.Sqrt(1 - beta) * (1 - abPrev) / (1 - ab), c.MeanFromSample, 12);
        Assert.Equal(Math.Sqrt((1 - abPrev) / (1 - ab) * beta), c.StdDev, 12);
        Assert.Equal(1 / Math.Sqrt(ab), c.X0FromSample, 12);
    }

    [Fact]
    public void FinalStepLandsOnThePredictedCleanImage()
    {
        var s = NoiseSchedule.Default;
        var c = DdpmPosterior.For(s, 0, -1);
        Assert.Equal(0, c.StdDev);
        Assert.Equal(1.0, c.MeanFromX0, 12);
        Assert.Equal(0.0, c.MeanFromSample, 12);
    }
}
