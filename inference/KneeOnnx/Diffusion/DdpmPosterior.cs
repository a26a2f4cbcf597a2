namespace KneeOnnx.Diffusion;

/// <summary>
/// Scalar coefficients of one ancestral DDPM step from timestep t to an earlier timestep tPrev (tPrev = -1 means x₀),
/// computed once here so the TorchSharp reference sampler and the ONNX Runtime sampler apply identical numbers.
/// With a strided schedule the step's effective β is 1 - ᾱ_t/ᾱ_prev (Nichol &amp; Dhariwal 2021, §4).
/// </summary>
/// <param name="X0FromSample">x̂₀ = X0FromSample·x_t − X0FromNoise·ε̂ (Ho et al. eq. 15 solved for x₀).</param>
/// <param name="MeanFromX0">posterior mean weight of x̂₀ (Ho et al. eq. 7).</param>
/// <param name="MeanFromSample">posterior mean weight of x_t.</param>
/// <param name="StdDev">√β̃, the "fixed small" posterior standard deviation; 0 on the final step.</param>
public readonly record struct DdpmPosterior(double X0FromSample, double X0FromNoise, double MeanFromX0, double MeanFromSample, double StdDev)
{
    public static DdpmPosterior For(NoiseSchedule schedule, int t, int tPrev)
    {
        if (t < 0 || t >= schedule.TrainTimesteps || tPrev >= t || tPrev < -1)
            throw new ArgumentOutOfRangeException(nameof(t), $"need -1 <= tPrev < t < {schedule.TrainTimesteps}, got t={t}, tPrev={tPrev}");
        double abT = schedule.AlphaBarAt(t);
        double abPrev = schedule.AlphaBarAt(tPrev);
        double beta = 1 - abT / abPrev;
        double alpha = 1 - beta;
        double variance = tPrev < 0 ? 0 : beta * (1 - abPrev) / (1 - abT);
        return new DdpmPosterior(
            X0FromSample: 1 / Math.Sqrt(abT),
            X0FromNoise: Math.Sqrt(1 - abT) / Math.Sqrt(abT),
            MeanFromX0: Math.Sqrt(abPrev) * beta / (1 - abT),
            MeanFromSample: Math.Sqrt(alpha) * (1 - abPrev) / (1 - abT),
            StdDev: Math.Sqrt(variance));
    }
}
