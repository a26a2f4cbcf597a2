namespace KneeOnnx.Schedulers;

/// <summary>
/// x̂₀ = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (Ho et al. eq. 15 solved for x₀), optionally clipped to the data range [-1, 1].
/// Clipping is a heuristic of pixel-space samplers (DDPM's reference code, diffusers' DDIM default); it is not part of
/// the probability-flow ODE, so with an exact model it bends the trajectory (DPM-Solver++ leaves it off by default).
/// </summary>
internal static class DenoisedEstimate
{
    public static float At(float sample, float noise, float invSqrtAlphaBar, float sqrtOneMinusAlphaBar, bool clip)
    {
        float x0 = (sample - sqrtOneMinusAlphaBar * noise) * invSqrtAlphaBar;
        return clip ? Math.Clamp(x0, -1f, 1f) : x0;
    }
}
