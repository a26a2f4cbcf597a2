using KneeOnnx.Diffusion;
using KneeOnnx.Schedulers;

namespace KneeOnnx.Tests;

/// <summary>
/// Scheduler steps against closed forms. The main check uses data concentrated on one image c: then the exact ε for
/// any x_t is (x_t − √ᾱ_t·c)/√(1−ᾱ_t), and every correct sampler must end exactly on c, whatever the noise and steps.
/// </summary>
public class SchedulerTests
{
    private static readonly NoiseSchedule Schedule = NoiseSchedule.Default;

    private static float[] RunWithPerfectModel(IDiffusionScheduler scheduler, float[] c, int seed)
    {
        var rng = new Random(seed);
        float[] Gaussian() => Enumerable.Range(0, c.Length).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
        float[] x = Gaussian();
        var eps = new float[c.Length];
        for (int i = 0; i < scheduler.Timesteps.Count; i++)
        {
            double ab = Schedule.AlphaBarAt(scheduler.Timesteps[i]);
            for (int j = 0; j < c.Length; j++)
                eps[j] = (float)((x[j] - Math.Sqrt(ab) * c[j]) / Math.Sqrt(1 - ab));
            scheduler.Step(i, eps, x, Gaussian);
        }
        return x;
    }

    public static TheoryData<string, int> SamplersAndSteps() => new()
    {
        { "ddpm", 1000 }, { "ddpm", 25 }, { "ddim", 50 }, { "ddim", 7 }, { "dpm++2m", 20 }, { "dpm++2m", 5 },
    };

    [Theory]
    [MemberData(nameof(SamplersAndSteps))]
    public void EverySamplerRecoversAPointMassExactly(string sampler, int steps)
    {
        float[] c = [-0.8f, -0.1f, 0.0f, 0.35f, 0.9f];
        var result = RunWithPerfectModel(SchedulerFactory.Create(sampler, Schedule, steps), c, seed: steps);
        for (int j = 0; j < c.Length; j++)
            Assert.Equal(c[j], result[j], 3);
    }

    [Fact]
    public void DdimStaysOnTheForwardMarginalAtEveryStep()
    {
        // With the exact ε, deterministic DDIM maps x_t = √ᾱ_t c + √(1−ᾱ_t) ε to √ᾱ_prev c + √(1−ᾱ_prev) ε (same ε).
        var ddim = new DdimScheduler(Schedule, 10);
        float c = 0.5f, noise = 1.3f;
        int t = ddim.Timesteps[3], prev = ddim.Timesteps[4];
        float[] x = [(float)(Math.Sqrt(Schedule.AlphaBarAt(t)) * c + Math.Sqrt(1 - Schedule.AlphaBarAt(t)) * noise)];
        ddim.Step(3, [noise], x, null);
        Assert.Equal(Math.Sqrt(Schedule.AlphaBarAt(prev)) * c + Math.Sqrt(1 - Schedule.AlphaBarAt(prev)) * noise, x[0], 5);
    }

    [Fact]
    public void DdpmStepMatchesAHandComputedCase()
    {
        // T = 2, β = (0.1, 0.2): ᾱ = (0.9, 0.72). From t = 1 with x = 0.6, ε̂ = 0.5, z = -1:
        // x̂₀ = (0.6 − √0.28·0.5)/√0.72 = 0.395302…; mean = √0.9·0.2/0.28·x̂₀ + √0.8·0.1/0.28·x = 0.459532…;
        // σ = √(0.2·0.1/0.28) = 0.267261…; x_prev = mean − σ = 0.192271…
        var schedule = NoiseSchedule.Linear(2, 0.1, 0.2);
        var ddpm = new DdpmScheduler(schedule, 2);
        Assert.Equal([1, 0], ddpm.Timesteps);
        float[] x = [0.6f];
        ddpm.Step(0, [0.5f], x, () => [-1f]);
        double x0 = (0.6 - Math.Sqrt(0.28) * 0.5) / Math.Sqrt(0.72);
        double mean = Math.Sqrt(0.9) * 0.2 / 0.28 * x0 + Math.Sqrt(0.8) * 0.1 / 0.28 * 0.6;
        Assert.Equal(0.395302, x0, 5);
        Assert.Equal(mean - Math.Sqrt(0.2 * 0.1 / 0.28), x[0], 5);
        Assert.Equal(0.192271, x[0], 4);
    }

    [Fact]
    public void FinalStepsLandOnTheClippedPrediction()
    {
        // Whatever the sampler, the last step returns x̂₀ (ᾱ_prev = 1), clipped to [-1, 1].
        foreach (var name in SchedulerFactory.Names)
        {
            var s = SchedulerFactory.Create(name, Schedule, 1);
            Assert.Equal([999], s.Timesteps);
            float[] x = [3f];
            s.Step(0, [0f], x, () => [0f]);
            Assert.Equal(1f, x[0]);
        }
    }

    [Theory]
    [InlineData(1000, 50, 999, 19)]
    [InlineData(1000, 1000, 999, 0)]
    [InlineData(1000, 3, 999, 332)]
    public void TrailingSpacingStartsAtPureNoise(int T, int steps, int first, int last)
    {
        var ts = TimestepSpacing.Trailing(T, steps);
        Assert.Equal(steps, ts.Length);
        Assert.Equal(first, ts[0]);
        Assert.Equal(last, ts[^1]);
        Assert.Equal(ts.Length, ts.Distinct().Count());
        Assert.True(ts.Zip(ts.Skip(1)).All(p => p.First > p.Second));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void StepsOutsideOneToTAreRefused(int steps) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TimestepSpacing.Trailing(1000, steps));

    [Fact]
    public void DdimWithEtaOneHasTheDdpmVariance()
    {
        // Song et al.: η = 1 gives σ² = β̃ of the strided DDPM posterior.
        var ddim = new DdimScheduler(Schedule, 10, eta: 1);
        var ddpmPosterior = DdpmPosterior.For(Schedule, ddim.Timesteps[2], ddim.Timesteps[3]);
        float[] x = [0f];
        ddim.Step(2, [0f], x, () => [1f]);
        // With x = 0 and ε̂ = 0: x̂₀ = 0, so x_prev = σ·z = σ.
        Assert.Equal(ddpmPosterior.StdDev, x[0], 5);
    }
}
