using KneeOnnx.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Denoising;

/// <summary>
/// The training objective: noise x₀ to x_t = √ᾱ_t·x₀ + √(1-ᾱ_t)·ε and regress ε (Ho et al. 2020, eq. 14) or the velocity
/// v = √ᾱ_t·ε − √(1-ᾱ_t)·x₀ (Salimans &amp; Ho 2022), optionally weighted by min-SNR-γ (Hang et al. 2023): min(SNR, γ)/SNR
/// for ε, min(SNR, γ)/(SNR + 1) for v — both the same weight on the implied x₀ error, min(SNR, γ).
/// </summary>
public sealed class NoiseObjective : IDisposable
{
    private readonly Tensor _sqrtAlphaBar;
    private readonly Tensor _sqrtOneMinusAlphaBar;
    private readonly Tensor _weight;

    public NoiseSchedule Schedule { get; }
    public double MinSnrGamma { get; }
    public string Prediction { get; }

    public NoiseObjective(NoiseSchedule schedule, double minSnrGamma, Device device, string prediction = PredictionType.Epsilon)
    {
        PredictionType.RequireCompatible(prediction, schedule);
        Schedule = schedule;
        MinSnrGamma = minSnrGamma;
        Prediction = prediction;
        bool velocity = prediction == PredictionType.Velocity;
        int T = schedule.TrainTimesteps;
        var ab = schedule.AlphaBars;
        _sqrtAlphaBar = tensor(Enumerable.Range(0, T).Select(t => (float)Math.Sqrt(ab[t])).ToArray(), device: device);
        _sqrtOneMinusAlphaBar = tensor(Enumerable.Range(0, T).Select(t => (float)Math.Sqrt(1 - ab[t])).ToArray(), device: device);
        _weight = tensor(Enumerable.Range(0, T).Select(t => (float)(minSnrGamma > 0 ? Math.Min(schedule.Snr(t), minSnrGamma) / (schedule.Snr(t) + (velocity ? 1 : 0)) : 1.0)).ToArray(), device: device);
    }

    public Tensor AddNoise(Tensor x0, Tensor noise, Tensor timestep)
    {
        var a = _sqrtAlphaBar.index_select(0, timestep).reshape(-1, 1, 1, 1);
        var s = _sqrtOneMinusAlphaBar.index_select(0, timestep).reshape(-1, 1, 1, 1);
        return a * x0 + s * noise;
    }

    /// <summary>What the network should output for these clean images, noise and timesteps: ε itself, or v.</summary>
    public Tensor Target(Tensor x0, Tensor noise, Tensor timestep)
    {
        if (Prediction == PredictionType.Epsilon) return noise;
        var a = _sqrtAlphaBar.index_select(0, timestep).reshape(-1, 1, 1, 1);
        var s = _sqrtOneMinusAlphaBar.index_select(0, timestep).reshape(-1, 1, 1, 1);
        return a * noise - s * x0;
    }

    /// <summary>Mean over the batch of the (weighted) per-image mean squared error.</summary>
    public Tensor Loss(Tensor predicted, Tensor target, Tensor timestep)
    {
        var perImage = (predicted - target).square().mean([1, 2, 3]);
        return (perImage * _weight.index_select(0, timestep)).mean();
    }

    public void Dispose()
    {
        _sqrtAlphaBar.Dispose();
        _sqrtOneMinusAlphaBar.Dispose();
        _weight.Dispose();
    }
}
