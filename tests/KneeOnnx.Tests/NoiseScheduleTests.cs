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
    public void AlphaBarMatchesHandValuesAndALogSum()
    {
        // β = (0.1, 0.2, 0.3) by hand: ᾱ = 0.9, 0.72, 0.504.
        var s = NoiseSchedule.Linear(3, 0.1, 0.3);
        Assert.Equal([0.9, 0.72, 0.504], s.AlphaBars.Select(a => Math.Round(a, 12)));
        Assert.Equal(1.0, s.AlphaBarAt(-1));
        // The report's schedule, against exp(Σ log1p(−β_t)) summed independently of the library.
        var d = NoiseSchedule.Default;
        double logSum = Enumerable.Range(0, 1000).Sum(t => Math.Log(1 - (1e-4 + (0.02 - 1e-4) * t / 999.0)));
        Assert.Equal(Math.Exp(logSum), d.AlphaBars[999], 12);
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
