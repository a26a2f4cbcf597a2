using KneeOnnx.Diffusion;

namespace KneeOnnx.Schedulers;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2) on the data prediction x̂₀ (clipped to [-1, 1]), with
/// λ = log(α/σ), α = √ᾱ, σ = √(1−ᾱ). The first step and the final step (onto x₀, where σ = 0) are first order,
/// as in diffusers' lower_order_final. Deterministic.
/// </summary>
public sealed class DpmSolverMultistepScheduler(NoiseSchedule schedule, int steps) : IDiffusionScheduler
{
    private readonly int[] _timesteps = TimestepSpacing.Trailing(schedule.TrainTimesteps, steps);
    private float[]? _previousX0;
    private float[]? _currentX0;
    private double _previousLambda;

    public string Name => "dpm++2m";
    public IReadOnlyList<int> Timesteps => _timesteps;
    public bool IsStochastic => false;

    public void Step(int index, ReadOnlySpan<float> noisePrediction, Span<float> sample, Func<float[]>? freshNoise)
    {
        int t = _timesteps[index];
        int prev = index + 1 < _timesteps.Length ? _timesteps[index + 1] : -1;
        double abS = schedule.AlphaBarAt(t), abT = schedule.AlphaBarAt(prev);
        double alphaS = Math.Sqrt(abS), sigmaS = Math.Sqrt(1 - abS), alphaT = Math.Sqrt(abT), sigmaT = Math.Sqrt(1 - abT);
        double lambdaS = Math.Log(alphaS / sigmaS);
        // e^{-h} with h = λ_t − λ_s, written as a ratio so the final step (σ_t = 0, λ_t = ∞) stays finite.
        double expMinusH = sigmaT * alphaS / (alphaT * sigmaS);

        _currentX0 ??= new float[sample.Length];
        float invAlphaS = (float)(1 / alphaS), sS = (float)sigmaS;
        for (int i = 0; i < sample.Length; i++)
            _currentX0[i] = Math.Clamp((sample[i] - sS * noisePrediction[i]) * invAlphaS, -1f, 1f);

        float keep = (float)(sigmaT / sigmaS);
        float d0Weight = (float)(-alphaT * (expMinusH - 1));
        bool secondOrder = _previousX0 is not null && prev >= 0;
        if (secondOrder)
        {
            double h = Math.Log(alphaT / sigmaT) - lambdaS;
            double r0 = (lambdaS - _previousLambda) / h;
            float d1Weight = (float)(-0.5 * alphaT * (expMinusH - 1) / r0);
            for (int i = 0; i < sample.Length; i++)
                sample[i] = keep * sample[i] + d0Weight * _currentX0[i] + d1Weight * (_currentX0[i] - _previousX0![i]);
        }
        else
        {
            for (int i = 0; i < sample.Length; i++)
                sample[i] = keep * sample[i] + d0Weight * _currentX0[i];
        }
        (_previousX0, _currentX0) = (_currentX0, _previousX0 ?? new float[sample.Length]);
        _previousLambda = lambdaS;
    }
}
