using KneeOnnx.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Diffusion;

/// <summary>
/// The ε-prediction training objective: noise x₀ to x_t = √ᾱ_t·x₀ + √(1-ᾱ_t)·ε and regress ε (Ho et al. 2020, eq. 14),
/// optionally weighted by min(SNR_t, γ)/SNR_t (min-SNR-γ, Hang et al. 2023), which for ε-prediction evens out
/// how much each timestep's gradient counts.
/// </summary>
public sealed class NoiseObjective : IDisposable
{
    private readonly Tensor _sqrtAlphaBar;
    private readonly Tensor _sqrtOneMinusAlphaBar;
    private readonly Tensor _weight;

    public NoiseSchedule Schedule { get; }
    public double MinSnrGamma { get; }

    public NoiseObjective(NoiseSchedule schedule, double minSnrGamma, Device device)
    {
        Schedule = schedule;
        MinSnrGamma = minSnrGamma;
        int T = schedule.TrainTimesteps;
        var ab = schedule.AlphaBars;
        _sqrtAlphaBar = tensor(Enumerable.Range(0, T).Select(t => (float)Math.Sqrt(ab[t])).ToArray(), device: device);
        _sqrtOneMinusAlphaBar = tensor(Enumerable.Range(0, T).Select(t => (float)Math.Sqrt(1 - ab[t])).ToArray(), device: device);
        _weight = tensor(Enumerable.Range(0, T).Select(t => (float)(minSnrGamma > 0 ? Math.Min(schedule.Snr(t), minSnrGamma) / schedule.Snr(t) : 1.0)).ToArray(), device: device);
    }

    public Tensor AddNoise(Tensor x0, Tensor noise, Tensor timestep)
    {
        var a = _sqrtAlphaBar.index_select(0, timestep).reshape(-1, 1, 1, 1);
        var s = _sqrtOneMinusAlphaBar.index_select(0, timestep).reshape(-1, 1, 1, 1);
        return a * x0 + s * noise;
    }

    /// <summary>Mean over the batch of the (weighted) per-image mean squared error.</summary>
    public Tensor Loss(Tensor predictedNoise, Tensor noise, Tensor timestep)
    {
        var perImage = (predictedNoise - noise).square().mean([1, 2, 3]);
        return (perImage * _weight.index_select(0, timestep)).mean();
    }

    public void Dispose()
    {
        _sqrtAlphaBar.Dispose();
        _sqrtOneMinusAlphaBar.Dispose();
        _weight.Dispose();
    }
}
