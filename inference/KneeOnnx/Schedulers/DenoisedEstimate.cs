using KneeOnnx.Diffusion;

namespace KneeOnnx.Schedulers;

/// <summary>
/// Reads the network's output at one timestep as the two things samplers need, x̂₀ and ε̂:
/// ε-prediction: x̂₀ = (x_t − √(1−ᾱ)·ε̂)/√ᾱ (Ho et al. eq. 15 solved for x₀);
/// v-prediction: x̂₀ = √ᾱ·x_t − √(1−ᾱ)·v̂ and ε̂ = √(1−ᾱ)·x_t + √ᾱ·v̂ (Salimans &amp; Ho 2022, §4), finite even where ᾱ = 0.
/// x̂₀ is optionally clipped to the data range [-1, 1]. Clipping is a heuristic of pixel-space samplers (DDPM's reference
/// code, diffusers' DDIM default); it is not part of the probability-flow ODE, so with an exact model it bends the
/// trajectory (DPM-Solver++ leaves it off by default).
/// </summary>
public readonly struct DenoisedEstimate
{
    private readonly bool _velocity;
    private readonly float _alpha, _sigma, _invAlpha;

    private DenoisedEstimate(bool velocity, double alphaBar)
    {
        _velocity = velocity;
        _alpha = (float)Math.Sqrt(alphaBar);
        _sigma = (float)Math.Sqrt(1 - alphaBar);
        _invAlpha = velocity ? 0f : (float)(1 / Math.Sqrt(alphaBar));
    }

    public static DenoisedEstimate At(string prediction, double alphaBar) => new(prediction == PredictionType.Velocity, alphaBar);

    public float Denoised(float sample, float output, bool clip)
    {
        float x0 = _velocity ? _alpha * sample - _sigma * output : (sample - _sigma * output) * _invAlpha;
        return clip ? Math.Clamp(x0, -1f, 1f) : x0;
    }

    public float Noise(float sample, float output) => _velocity ? _sigma * sample + _alpha * output : output;
}
