using KneeOnnx.Diffusion;
using KneeOnnx.Runtime;
using KneeOnnx.Schedulers;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Runs;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>
/// v-prediction and the zero-terminal-SNR schedule, against closed forms (Gaussian data, whose exact ε, x̂₀ and v are
/// known) and against a second implementation of Lin et al.'s rescaling (diffusers' <c>rescale_zero_terminal_snr</c>,
/// run in float64 Python on the linear 1e-4..0.02 schedule; values below).
/// </summary>
public class VelocityPredictionTests
{
    private static readonly NoiseSchedule ZeroSnr = NoiseSchedule.Default.WithZeroTerminalSnr();
    private static readonly GaussianData Data = new(Mean: 0.1, StdDev: 0.25);

    [Theory]
    [InlineData(0, 9.999999999998899e-05, 0.9999)]
    [InlineData(1, 0.00012068663551045855, 0.9997793254331531)]
    [InlineData(499, 0.01027104254954192, 0.07602875054711472)]
    [InlineData(998, 0.7522672311504667, 4.213262465088072e-09)]
    [InlineData(999, 1.0, 0.0)]
    public void ZeroTerminalSnrScheduleMatchesTheReferenceImplementation(int t, double beta, double alphaBar)
    {
        Assert.Equal(beta, ZeroSnr.Betas[t], 12);
        Assert.Equal(alphaBar, ZeroSnr.AlphaBars[t], 12);
        Assert.True(ZeroSnr.ZeroTerminalSnr);
        Assert.Equal(0.0, ZeroSnr.AlphaBars[^1]); // exactly: the sampler's start is pure noise
        Assert.Equal(0.0, ZeroSnr.Snr(999));
    }

    [Fact]
    public void TheLinearScheduleLeavesSignalAtItsLastStepAndTheRescaledOneDoesNot()
    {
        // Lin et al. 2024, Table 1: √ᾱ_T of the linear 1e-4..0.02 schedule is 0.0064 (0.00635 here: their T = 1000 uses β_T = 0.02).
        Assert.Equal(0.006353, Math.Sqrt(NoiseSchedule.Default.AlphaBars[^1]), 5);
        Assert.False(NoiseSchedule.Default.ZeroTerminalSnr);
    }

    [Fact]
    public void EpsilonPredictionIsRefusedOnAZeroTerminalSnrSchedule()
    {
        foreach (var sampler in SchedulerFactory.Names)
        {
            var e = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create(sampler, ZeroSnr, 10));
            Assert.Contains("v_prediction", e.Message);
        }
        Assert.Throws<ArgumentException>(() => new NoiseObjective(ZeroSnr, 0, CPU));
    }

    [Theory]
    [InlineData("ddpm")]
    [InlineData("ddim")]
    [InlineData("dpm++2m")]
    [InlineData("dpm++3m")]
    [InlineData("dpm++2m-sde")]
    [InlineData("dpm++3m-sde")]
    public void OneVelocityStepFromPureNoiseLandsOnTheDataMean(string sampler)
    {
        // At ᾱ = 0, x_T holds no signal, so E[x₀ | x_T] is the data mean whatever x_T is — a point ε-prediction cannot reach.
        var s = SchedulerFactory.Create(sampler, ZeroSnr, 1, clipDenoised: false, prediction: PredictionType.Velocity);
        float[] x = [-2.5f, -0.3f, 0f, 0.7f, 3.1f];
        var v = new float[x.Length];
        Data.ExactVelocity(0, x, v);
        s.Step(0, v, x, () => new float[x.Length]);
        foreach (var value in x) Assert.Equal(Data.Mean, value, 6);
    }

    [Theory]
    [InlineData("ddpm")]
    [InlineData("ddim")]
    [InlineData("dpm++2m")]
    [InlineData("dpm++3m")]
    [InlineData("dpm++2m-sde")]
    [InlineData("dpm++3m-sde")]
    public void OneVelocityStepOnTheLinearScheduleLandsOnThePosteriorMean(string sampler)
    {
        var s = SchedulerFactory.Create(sampler, NoiseSchedule.Default, 1, clipDenoised: false, prediction: PredictionType.Velocity);
        double ab = NoiseSchedule.Default.AlphaBarAt(999);
        float[] x = [-2.5f, -0.3f, 0f, 0.7f, 3.1f];
        var expected = x.Select(value => Data.PosteriorMean(ab, value)).ToArray();
        var v = new float[x.Length];
        Data.ExactVelocity(ab, x, v);
        s.Step(0, v, x, () => new float[x.Length]);
        // Unlike ε, v carries x̂₀ with weight √(1−ᾱ) ≈ 1, so float32 keeps 5 decimals where ε kept 3.
        for (int i = 0; i < x.Length; i++) Assert.Equal(expected[i], x[i], 5);
    }

    /// <summary>Largest distance from the exact probability-flow solution after integrating 999 → 99 with exact v.</summary>
    private static double OdeError(Func<int[], IDiffusionScheduler> make, int k)
    {
        int[] grid = Enumerable.Range(0, k + 1).Select(i => 999 - i * (900 / k)).ToArray();
        double abEnd = ZeroSnr.AlphaBarAt(99);
        var scores = Enumerable.Range(0, 61).Select(i => -3 + i * 0.1).ToArray();
        // At ᾱ = 0 the marginal is N(0, 1): a start point is its own standard score.
        float[] x = scores.Select(z => (float)z).ToArray();
        var scheduler = make(grid);
        var v = new float[x.Length];
        for (int i = 0; i + 1 < scheduler.Timesteps.Count; i++)
        {
            Data.ExactVelocity(ZeroSnr.AlphaBarAt(scheduler.Timesteps[i]), x, v);
            scheduler.Step(i, v, x, null);
        }
        return scores.Select((z, i) => Math.Abs(x[i] - Data.OnFlow(abEnd, z))).Max();
    }

    [Fact]
    public void DdimWithVelocitySolvesTheFlowFromZeroSnrToFirstOrder()
    {
        double e10 = OdeError(ts => new DdimScheduler(ZeroSnr, ts, clipDenoised: false, prediction: PredictionType.Velocity), 10),
               e20 = OdeError(ts => new DdimScheduler(ZeroSnr, ts, clipDenoised: false, prediction: PredictionType.Velocity), 20),
               e45 = OdeError(ts => new DdimScheduler(ZeroSnr, ts, clipDenoised: false, prediction: PredictionType.Velocity), 45);
        Console.WriteLine($"DDIM-v errors at 10/20/45 steps from zero SNR: {e10:E2} {e20:E2} {e45:E2}");
        Assert.InRange(e10 / e20, 1.5, 2.7);
        Assert.True(e45 < 0.5 * e20 && e45 < 0.05, $"DDIM-v-45 error {e45}");
    }

    [Fact]
    public void DpmSolverWithVelocityConvergesFasterThanDdimFromZeroSnr()
    {
        double ddim = OdeError(ts => new DdimScheduler(ZeroSnr, ts, clipDenoised: false, prediction: PredictionType.Velocity), 20);
        double e10 = OdeError(ts => new DpmSolverMultistepScheduler(ZeroSnr, ts, prediction: PredictionType.Velocity), 10),
               e20 = OdeError(ts => new DpmSolverMultistepScheduler(ZeroSnr, ts, prediction: PredictionType.Velocity), 20);
        Console.WriteLine($"DPM-Solver++(2M)-v errors at 10/20 steps from zero SNR: {e10:E2} {e20:E2} (DDIM-20 {ddim:E2})");
        Assert.True(double.IsFinite(e10) && double.IsFinite(e20));
        Assert.True(e10 / e20 > 2.5, $"DPM-Solver++ order: {e10:E2} → {e20:E2}");
        Assert.True(e20 < 0.25 * ddim, $"DPM-Solver++-20 {e20:E2} vs DDIM-20 {ddim:E2}");
    }

    [Fact]
    public void AncestralDdpmWithVelocitySamplesTheDataFromZeroSnr()
    {
        var ddpm = new DdpmScheduler(ZeroSnr, 1000, clipDenoised: false, prediction: PredictionType.Velocity);
        var (mean, std) = Data.SampleThrough(ddpm, ZeroSnr, 20_000, 12, velocity: true);
        var (exactMean, exactStd) = ChainOutput(ZeroSnr);
        Console.WriteLine($"DDPM-1000-v from zero SNR: mean {mean:F4}, std {std:F4}; the chain's exact law N({exactMean:F4}, {exactStd:F4}²); data N({Data.Mean}, {Data.StdDev}²)");
        // The sampler runs the chain exactly (Monte-Carlo error of the std ≈ 0.5 %) …
        Assert.Equal(exactMean, mean, 0.01);
        Assert.InRange(std / exactStd, 0.985, 1.015);
        // … and the chain reaches the data, up to fixed-small variance leaving out the x̂₀ uncertainty of the large
        // final-step β of this schedule (β₉₉₈ = 0.75): a few percent too narrow.
        Assert.Equal(Data.Mean, exactMean, 0.005);
        Assert.InRange(exactStd / Data.StdDev, 0.95, 1.0);
    }

    /// <summary>
    /// The law of the fixed-small ancestral chain's output for Gaussian data with the exact model, by propagating mean and
    /// variance through x_prev = m₀·E[x₀ | x_t] + m_t·x_t + σ̃·z (Ho et al. eqs. 6–7), all linear in x_t. Independent of
    /// how the sampler reads the network's output.
    /// </summary>
    private static (double Mean, double StdDev) ChainOutput(NoiseSchedule schedule)
    {
        double e = 0, variance = 1, mu = Data.Mean, s2 = Data.StdDev * Data.StdDev;
        for (int t = schedule.TrainTimesteps - 1; t >= 0; t--)
        {
            double ab = schedule.AlphaBarAt(t), abPrev = schedule.AlphaBarAt(t - 1);
            double beta = 1 - ab / abPrev;
            double m0 = Math.Sqrt(abPrev) * beta / (1 - ab), mt = Math.Sqrt(1 - beta) * (1 - abPrev) / (1 - ab);
            double posterior = t == 0 ? 0 : beta * (1 - abPrev) / (1 - ab);
            double k = Math.Sqrt(ab) * s2 / (ab * s2 + 1 - ab); // E[x₀ | x] = μ + k·(x − √ᾱ·μ)
            double gain = m0 * k + mt;
            e = gain * e + m0 * (mu - k * Math.Sqrt(ab) * mu);
            variance = gain * gain * variance + posterior;
        }
        return (e, Math.Sqrt(variance));
    }

    // T = 2, β = (0.1, 0.2): ᾱ = (0.9, 0.72), SNR = (9, 18/7).
    private static readonly NoiseSchedule TwoSteps = NoiseSchedule.Linear(2, 0.1, 0.2);

    [Fact]
    public void VelocityTargetIsTheNoiseRotatedAgainstTheImage()
    {
        using var objective = new NoiseObjective(TwoSteps, 0, CPU, PredictionType.Velocity);
        using var x0 = tensor(new float[] { 1, -0.5f, 0.25f, 2 }).reshape(2, 1, 1, 2);
        using var eps = tensor(new float[] { 0.3f, 1, -2, 0.5f }).reshape(2, 1, 1, 2);
        using var t = tensor(new long[] { 0, 1 });
        using var v = objective.Target(x0, eps, t);
        double[] expected =
        [
            Math.Sqrt(0.9) * 0.3 - Math.Sqrt(0.1) * 1, Math.Sqrt(0.9) * 1 - Math.Sqrt(0.1) * -0.5,
            Math.Sqrt(0.72) * -2 - Math.Sqrt(0.28) * 0.25, Math.Sqrt(0.72) * 0.5 - Math.Sqrt(0.28) * 2,
        ];
        var actual = v.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
        // And x_t, v give back x₀ = √ᾱ·x_t − √(1−ᾱ)·v (Salimans & Ho eq. in §4): the rotation is orthonormal.
        using var xt = objective.AddNoise(x0, eps, t);
        using var a = tensor(new float[] { (float)Math.Sqrt(0.9), (float)Math.Sqrt(0.72) }).reshape(2, 1, 1, 1);
        using var s = tensor(new float[] { (float)Math.Sqrt(0.1), (float)Math.Sqrt(0.28) }).reshape(2, 1, 1, 1);
        using var back = a * xt - s * v;
        var original = x0.data<float>().ToArray();
        var recovered = back.data<float>().ToArray();
        for (int i = 0; i < original.Length; i++) Assert.Equal(original[i], recovered[i], 5);
    }

    [Fact]
    public void MinSnrForVelocityWeighsBySnrOverSnrPlusOne()
    {
        // Hang et al. 2023: min(SNR, γ)/(SNR + 1) for v. γ = 5: t = 0 → 5/10; t = 1 → (18/7)/(25/7) = 18/25.
        using var objective = new NoiseObjective(TwoSteps, 5, CPU, PredictionType.Velocity);
        using var target = zeros(2, 1, 1, 2);
        using var predicted = tensor(new float[] { 1, 3, 2, 0 }).reshape(2, 1, 1, 2); // per-image MSE 5 and 2
        using var t = tensor(new long[] { 0, 1 });
        using var loss = objective.Loss(predicted, target, t);
        Assert.Equal((0.5 * 5 + 18.0 / 25 * 2) / 2, loss.item<float>(), 5);
    }

    [Fact]
    public void AVelocityModelTrainsExportsSaysSoAndGenerates()
    {
        using var dir = new TempDirectory();
        TinyRuns.Train(dir.Combine("run"), steps: 2, prediction: PredictionType.Velocity, zeroTerminalSnr: true);
        string onnx = dir.Combine("v.onnx");
        var export = InProcessCli.Train("export", "--checkpoint", dir.Combine("run"), "--out", onnx);
        Assert.True(export.Code == 0, export.Err);
        using (var session = new InferenceSession(onnx))
        {
            var meta = session.ModelMetadata.CustomMetadataMap;
            Assert.Equal("v_prediction", meta[ModelContract.Keys.PredictionType]);
            Assert.Equal("true", meta[ModelContract.Keys.ZeroTerminalSnr]);
        }
        Assert.Contains("v-prediction", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));
        var info = InProcessCli.Generate("info", "--model", onnx);
        Assert.True(info.Code == 0, info.Err);
        Assert.Contains("zero terminal SNR", info.Out);
        Assert.Contains("v_prediction prediction", info.Out);
        foreach (var sampler in SchedulerFactory.Names)
        {
            string outDir = dir.Combine("gen-" + sampler.Replace("+", "p"));
            var (code, _, err) = InProcessCli.Generate("generate", "--model", onnx, "--provider", "cpu", "--sampler", sampler, "--steps", "3", "--per-grade", "1", "--seed", "4", "--out", outDir);
            Assert.True(code == 0, err);
            Assert.Equal(5, Directory.GetFiles(outDir, "*.png", SearchOption.AllDirectories).Length);
        }

        // A run started from it inherits what its output means and its schedule.
        var init = InProcessCli.Train("train", "--init-from", onnx, "--data", SyntheticKnees.WriteDataset(dir.Combine("data"), 1, 32), "--out", dir.Combine("run2"), "--steps", "1", "--batch", "2");
        Assert.True(init.Code == 0, init.Err);
        var resumed = Checkpoint.ReadState(dir.Combine("run2", Checkpoint.FileName)).Train;
        Assert.Equal(PredictionType.Velocity, resumed.PredictionType);
        Assert.True(resumed.ZeroTerminalSnr);
    }

    [Fact]
    public void ZeroTerminalSnrWithoutVelocityIsRefusedNamingTheOption()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, 1, 16);
        var (code, _, err) = InProcessCli.Train("train", "--data", dir.Path, "--out", dir.Combine("run"), "--preset", "tiny", "--zero-terminal-snr");
        Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains("--prediction", err);
        Assert.Contains("--zero-terminal-snr", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.Combine("run")));
    }
}
