using KneeOnnx.Generation;
using KneeOnnx.Runtime;
using KneeOnnx.Schedulers;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// Redrawing an image at another grade (SDEdit): the sampling loop starts from the image noised to a middle timestep.
/// Checked against closed forms: which calls a strength keeps, and, with the exact network of Gaussian data, the law of
/// what the probability-flow ODE makes of a noised start.
/// </summary>
public class RegradeTests(TinyOnnxModel tiny) : IClassFixture<TinyOnnxModel>
{
    [Fact]
    public void AStrengthKeepsTheLastCallsOfTheTrajectory()
    {
        var all = TimestepSpacing.Trailing(1000, 50); // 999, 979, …, 19: t_i = 999 − 20i
        var kept = TimestepSpacing.Partial(all, 0.6);
        Assert.Equal(30, kept.Length);
        Assert.Equal(999 - 20 * 20, kept[0]);
        Assert.Equal(19, kept[^1]);
        Assert.Equal(all, TimestepSpacing.Partial(all, 1));
        Assert.Equal([19], TimestepSpacing.Partial(all, 0.001)); // at least one call, the last
        Assert.Equal(all[^3..], TimestepSpacing.Partial(all, 0.07)); // ⌊3.5⌋
        foreach (double bad in new[] { 0, -0.5, 1.01, double.NaN })
            Assert.Contains("--strength must be in (0, 1]", Assert.Throws<ArgumentOutOfRangeException>(() => TimestepSpacing.Partial(all, bad)).Message);
    }

    /// <summary>The exact ε of Gaussian data whose mean depends on the grade asked for.</summary>
    private sealed class GaussianPerGrade(ModelInfo info, Func<int, GaussianData> data) : INoisePredictor
    {
        public ModelInfo Info => info;
        public void Predict(ReadOnlySpan<float> samples, int n, int timestep, int grade, double guidance, Span<float> noise, int side = KneeSides.None) =>
            data(grade).ExactNoise(info.Schedule.AlphaBarAt(timestep), samples, noise);
        public void Dispose() { }
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.6)]
    [InlineData(0.2)]
    public void TheOdeCarriesTheNoisedStartToTheTargetGradesLaw(double strength)
    {
        // Grade g's data are N(μ_g, s²). A start image of constant value c, noised to t₀, is x_t₀ = √ᾱ₀·c + √(1−ᾱ₀)·ε;
        // the probability-flow ODE keeps every point's standard score under the target's law, so the result is
        // μ_g + s·(x_t₀ − √ᾱ₀μ_g)/√V₀ with V₀ = ᾱ₀s² + 1 − ᾱ₀: normal, with mean μ_g + s√ᾱ₀(c − μ_g)/√V₀ and
        // standard deviation s√(1−ᾱ₀)/√V₀. Strength 1 forgets the start (mean μ_g, deviation s); a low strength keeps it.
        using var model = KneeModel.Open(tiny.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        var info = model.Info;
        static GaussianData Law(int grade) => new(Mean: -0.6 + 0.3 * grade, StdDev: 0.2);
        using var generator = new ImageGenerator(new GaussianPerGrade(info, Law));
        const int target = 4, n = 16;
        const float c = -0.5f;
        var start = Enumerable.Repeat(c, n * generator.ValuesPerSample).ToArray();
        var settings = new SamplerSettings { Sampler = "dpm++2m", Steps = 50, Spacing = TimestepSpacing.KarrasName };
        float[] result = generator.Denoise(target, seed: 5, Enumerable.Range(0, n).Select(i => (long)i).ToArray(), settings, start: start, strength: strength);

        int t0 = SchedulerFactory.Create("dpm++2m", info.Schedule, 50, spacing: TimestepSpacing.KarrasName, strength: strength).Timesteps[0];
        double ab = info.Schedule.AlphaBarAt(t0), s = Law(target).StdDev, mu = Law(target).Mean, v = ab * s * s + 1 - ab;
        double expectedMean = mu + s * Math.Sqrt(ab) * (c - mu) / Math.Sqrt(v), expectedStd = s * Math.Sqrt(1 - ab) / Math.Sqrt(v);
        double mean = result.Average(x => (double)x), std = Math.Sqrt(result.Sum(x => (x - mean) * (x - mean)) / (result.Length - 1));
        // 1,024 values: the sample mean is within ≈ 3·std/32 and the sample deviation within ≈ 7 % (3 standard errors).
        Assert.InRange(mean, expectedMean - 3 * expectedStd / 32 - 0.01, expectedMean + 3 * expectedStd / 32 + 0.01);
        Assert.InRange(std, expectedStd * 0.93 - 0.005, expectedStd * 1.07 + 0.005);
        if (strength == 1) Assert.InRange(mean, mu - 0.03, mu + 0.03);
        if (strength <= 0.2) Assert.True(Math.Abs(mean - c) < Math.Abs(mean - mu), $"at strength {strength} the result ({mean:F3}) should stay nearer the start {c} than the target mean {mu}");
    }

    [Fact]
    public void ALowStrengthWithoutAStartAndAStartOfTheWrongLengthAreRefused()
    {
        using var model = KneeModel.Open(tiny.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var generator = new ImageGenerator(model);
        var settings = new SamplerSettings { Sampler = "ddim", Steps = 4 };
        Assert.Contains("needs samples to start from", Assert.Throws<ArgumentException>(() => generator.Denoise(0, 1, [0], settings, strength: 0.5)).Message);
        Assert.Contains($"need {generator.ValuesPerSample} values, got 3", Assert.Throws<ArgumentException>(() => generator.Denoise(0, 1, [0], settings, start: new float[3], strength: 0.5)).Message);
    }
}
