using KneeOnnx.Diffusion;
using KneeOnnx.Schedulers;

namespace KneeOnnx.Tests;

/// <summary>
/// The SDE solvers' η (k-diffusion's <c>eta</c>): the share of each step's variance that is fresh noise. Checked against
/// the exact mean of the η-family's step for a known x̂₀(λ), and against Gaussian data whose distribution is known.
/// </summary>
public class SdeEtaTests
{
    private static readonly NoiseSchedule Schedule = NoiseSchedule.Default;
    private static readonly GaussianData Data = new(Mean: 0.1, StdDev: 0.25);

    private static double Lambda(int t) => 0.5 * Math.Log(Schedule.AlphaBarAt(t) / (1 - Schedule.AlphaBarAt(t)));

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void SdeDpmSolverPlusPlus3MIsExactForAQuadraticDenoisedEstimateAtAnyEta(double eta)
    {
        // With fresh noise z = 0 the η-family's step has the exact mean x_t = (σ_t/σ_s)e^{-ηh}·x_s + α_t·k·∫ e^{-k(λ_t − λ)} x̂₀(λ) dλ
        // over [λ_s, λ_t], k = 1 + η. For x̂₀(λ) = a + bλ + cλ² an antiderivative of e^{kλ}x̂₀(λ) is
        // G(λ) = e^{kλ}(a/k + b(λ/k − 1/k²) + c(λ²/k − 2λ/k² + 2/k³)).
        const double a = 0.3, b = 0.2, c = 0.05;
        double k = 1 + eta;
        var s = new DpmSolverMultistepScheduler(Schedule, 10, stochastic: true, order: 3, eta: eta);
        double Q(double l) => a + b * l + c * l * l;
        double G(double l) => Math.Exp(k * l) * (a / k + b * (l / k - 1 / (k * k)) + c * (l * l / k - 2 * l / (k * k) + 2 / (k * k * k)));
        float[] x = [-1.3f, 0.2f, 0.9f];
        float[] Zero() => new float[x.Length];
        for (int i = 0; i < 5; i++)
        {
            int t = s.Timesteps[i], next = s.Timesteps[i + 1];
            double ab = Schedule.AlphaBarAt(t), q = Q(Lambda(t));
            float[] eps = x.Select(v => (float)((v - Math.Sqrt(ab) * q) / Math.Sqrt(1 - ab))).ToArray();
            double abNext = Schedule.AlphaBarAt(next), h = Lambda(next) - Lambda(t);
            double sigmaS = Math.Sqrt(1 - ab), sigmaT = Math.Sqrt(1 - abNext), alphaT = Math.Sqrt(abNext);
            double[] expected = x.Select(v => sigmaT / sigmaS * Math.Exp(-eta * h) * v + alphaT * k * Math.Exp(-k * Lambda(next)) * (G(Lambda(next)) - G(Lambda(t)))).ToArray();
            s.Step(i, eps, x, Zero);
            if (i < 2) continue; // the first two steps are first and second order
            for (int j = 0; j < x.Length; j++) Assert.Equal(expected[j], x[j], 5);
        }
    }

    [Theory]
    [InlineData(0.25)]
    [InlineData(0.5)]
    [InlineData(0.75)]
    public void EverySdeStepKeepsTheForwardMarginalOfAFixedDenoisedEstimate(double eta)
    {
        // For a point mass at x₀ the exact x̂₀ is x₀ itself, and x_s ~ N(α_s x₀, σ_s²) must land on N(α_t x₀, σ_t²) at every
        // step whatever η: the kept part (σ_t/σ_s)e^{-ηh} of x and the fresh noise σ_t√(1 − e^{-2ηh}) share σ_t² between them.
        const int n = 40_000;
        const double x0 = 0.4;
        var rng = new Random(5);
        var s = new DpmSolverMultistepScheduler(Schedule, 8, stochastic: true, eta: eta);
        double a0 = Math.Sqrt(Schedule.AlphaBarAt(s.Timesteps[0])), s0 = Math.Sqrt(1 - Schedule.AlphaBarAt(s.Timesteps[0]));
        float[] x = GaussianData.StandardNormals(rng, n).Select(z => (float)(a0 * x0 + s0 * z)).ToArray();
        var eps = new float[n];
        for (int i = 0; i + 1 < s.Timesteps.Count; i++)
        {
            double ab = Schedule.AlphaBarAt(s.Timesteps[i]);
            for (int j = 0; j < n; j++) eps[j] = (float)((x[j] - Math.Sqrt(ab) * x0) / Math.Sqrt(1 - ab));
            s.Step(i, eps, x, () => GaussianData.StandardNormals(rng, n));
            double abNext = Schedule.AlphaBarAt(s.Timesteps[i + 1]);
            double mean = x.Average(v => (double)v), std = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (n - 1));
            // 40,000 draws: the sample mean's standard error is σ_t/200 ≤ 0.005 and the std's 0.35 %; the bands are four of them.
            Assert.InRange(mean - Math.Sqrt(abNext) * x0, -0.02, 0.02);
            Assert.InRange(std / Math.Sqrt(1 - abNext), 0.985, 1.015);
        }
    }

    [Theory]
    [InlineData(2, 0.5, 200)]
    [InlineData(3, 0.5, 200)]
    [InlineData(2, 0.25, 200)]
    public void SdeSolversWithEtaSampleTheDataDistribution(int order, double eta, int steps)
    {
        const int n = 40_000;
        var (mean, std) = Data.SampleThrough(new DpmSolverMultistepScheduler(Schedule, steps, stochastic: true, order: order, eta: eta), Schedule, n, 11);
        Assert.InRange(mean, Data.Mean - 0.005, Data.Mean + 0.005);
        Assert.InRange(std / Data.StdDev, 0.98, 1.02);
    }

    [Theory]
    [InlineData(35)]
    [InlineData(45)]
    public void HalfTheSdeNoiseGivesTheThirdOrderSolverTheDataSpreadAtModerateStepCounts(int steps)
    {
        // Measured on these data (std relative to the data's, 35 / 45 calls): the ODE's 3M 0.933 / 0.957 (too narrow), the
        // full SDE's 1.068 / 1.097 (too wide: docs/samplers.md), η = 0.5 0.981 / 1.005. So η moves the spread between the
        // two ends, and halfway lands nearest the data; a wrong weight on the kept x, the noise or the kernel moves it off.
        const int n = 40_000;
        double Spread(DpmSolverMultistepScheduler s) => Data.SampleThrough(s, Schedule, n, 11).Std / Data.StdDev;
        double ode = Spread(new DpmSolverMultistepScheduler(Schedule, steps, order: 3));
        double half = Spread(new DpmSolverMultistepScheduler(Schedule, steps, stochastic: true, order: 3, eta: 0.5));
        double full = Spread(new DpmSolverMultistepScheduler(Schedule, steps, stochastic: true, order: 3));
        Assert.True(ode < half && half < full, $"spread ODE {ode:F3}, η 0.5 {half:F3}, η 1 {full:F3}: not ordered by η");
        Assert.InRange(half, 0.97, 1.02);
        Assert.True(Math.Abs(half - 1) < Math.Min(Math.Abs(ode - 1), Math.Abs(full - 1)), $"η 0.5's spread {half:F3} is no nearer 1 than the ODE's {ode:F3} or the SDE's {full:F3}");
    }
}
