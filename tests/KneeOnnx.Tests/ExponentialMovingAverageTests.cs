using KneeOnnx.Training.Denoising;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

public class ExponentialMovingAverageTests
{
    private static void Set(TorchSharp.Modules.Linear module, float value)
    {
        using var _ = no_grad();
        using var v = tensor(new[] { value }).reshape(1, 1);
        module.weight!.copy_(v);
    }

    /// <summary>The shadow weight after updates at steps 0, 1, 2 with the live weight at 1, 3, −1 in turn, from a shadow of 0.</summary>
    private static double AfterThreeUpdates(double maxDecay)
    {
        using var live = nn.Linear(1, 1, hasBias: false);
        using var shadow = nn.Linear(1, 1, hasBias: false);
        Set(shadow, 0);
        var ema = new ExponentialMovingAverage(live, shadow, maxDecay);
        float[] liveWeights = [1, 3, -1];
        for (int step = 0; step < liveWeights.Length; step++)
        {
            Set(live, liveWeights[step]);
            ema.Update(step);
        }
        return shadow.weight!.item<float>();
    }

    [Fact]
    public void WarmUpDecayGivesTheClosedFormGeometricAverage()
    {
        // Decays (1+s)/(10+s) = 1/10, 2/11, 3/12; shadow = d₂d₁d₀·0 + d₂d₁(1−d₀)·1 + d₂(1−d₁)·3 + (1−d₂)·(−1).
        double expected = 3.0 / 12 * 2 / 11 * 9 / 10 * 1 + 3.0 / 12 * 9 / 11 * 3 + 9.0 / 12 * -1;
        Assert.Equal(-21.0 / 220, expected, 12); // = (54 + 810 − 990) / 1320
        Assert.Equal(expected, AfterThreeUpdates(maxDecay: 0.9999), 5);
    }

    [Fact]
    public void MaxDecayCapsTheWarmUpDecay()
    {
        // Max 0.2: decays 1/10, 2/11 (under the cap), then 0.2 instead of 3/12.
        double expected = 0.2 * 2 / 11 * 9 / 10 * 1 + 0.2 * 9 / 11 * 3 + 0.8 * -1;
        Assert.Equal(expected, AfterThreeUpdates(maxDecay: 0.2), 5);
    }

    [Fact]
    public void CopyFromLiveMakesTheShadowEqualToTheLiveWeights()
    {
        using var live = nn.Linear(1, 1, hasBias: false);
        using var shadow = nn.Linear(1, 1, hasBias: false);
        Set(live, 0.75f);
        Set(shadow, -4);
        new ExponentialMovingAverage(live, shadow, 0.999).CopyFromLive();
        Assert.Equal(0.75f, shadow.weight!.item<float>());
    }
}
