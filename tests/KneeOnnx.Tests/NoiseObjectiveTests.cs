using KneeOnnx.Diffusion;
using KneeOnnx.Training.Denoising;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

public class NoiseObjectiveTests
{
    // T = 2, β = (0.1, 0.2): ᾱ = (1 − 0.1, (1 − 0.1)(1 − 0.2)) = (0.9, 0.72); SNR = ᾱ/(1 − ᾱ) = (9, 18/7 ≈ 2.571).
    private static readonly NoiseSchedule TwoSteps = NoiseSchedule.Linear(2, 0.1, 0.2);

    [Fact]
    public void AddNoiseMixesSignalAndNoiseByTheSquareRootsOfTheCumulativeAlphaProduct()
    {
        using var objective = new NoiseObjective(TwoSteps, minSnrGamma: 0, CPU);
        using var x0 = tensor(new float[] { 1, -0.5f, 0.25f, 2 }).reshape(2, 1, 1, 2);
        using var eps = tensor(new float[] { 0.3f, 1, -2, 0.5f }).reshape(2, 1, 1, 2);
        using var t = tensor(new long[] { 0, 1 });
        using var xt = objective.AddNoise(x0, eps, t);
        double[] expected =
        [
            Math.Sqrt(0.9) * 1 + Math.Sqrt(0.1) * 0.3, Math.Sqrt(0.9) * -0.5 + Math.Sqrt(0.1) * 1,
            Math.Sqrt(0.72) * 0.25 + Math.Sqrt(0.28) * -2, Math.Sqrt(0.72) * 2 + Math.Sqrt(0.28) * 0.5,
        ];
        var actual = xt.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    // Per-image squared errors: image 0 (t = 0) differs by (1, 3), mean 5; image 1 (t = 1) by (2, 0), mean 2.
    private static double LossOfKnownErrors(double gamma)
    {
        using var objective = new NoiseObjective(TwoSteps, gamma, CPU);
        using var noise = zeros(2, 1, 1, 2);
        using var predicted = tensor(new float[] { 1, 3, 2, 0 }).reshape(2, 1, 1, 2);
        using var t = tensor(new long[] { 0, 1 });
        using var loss = objective.Loss(predicted, noise, t);
        return loss.item<float>();
    }

    [Fact]
    public void WithoutMinSnrTheLossIsThePlainMeanSquaredError() => Assert.Equal((5 + 2) / 2.0, LossOfKnownErrors(0), 5);

    [Fact]
    public void MinSnrDownWeightsOnlyTimestepsWhoseSnrExceedsGamma()
    {
        // γ = 5: t = 0 has SNR 9 > 5, weight 5/9; t = 1 has SNR 2.57 < 5, weight 1.
        Assert.Equal((5.0 / 9 * 5 + 1 * 2) / 2, LossOfKnownErrors(5), 5);
        // γ = 2: both SNRs exceed it, weights 2/9 and 2/(18/7) = 7/9.
        Assert.Equal((2.0 / 9 * 5 + 7.0 / 9 * 2) / 2, LossOfKnownErrors(2), 5);
    }
}
