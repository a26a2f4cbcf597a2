using KneeOnnx.Diffusion;

namespace KneeOnnx.Schedulers;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2) on the data prediction x̂₀, with λ = log(α/σ), α = √ᾱ, σ = √(1−ᾱ).
/// The first step and the final step (onto x₀, where σ = 0) are first order, as in diffusers' lower_order_final.
/// Deterministic. x̂₀ is not clipped by default: the reference algorithm integrates the unclipped ODE, and clipping the
/// multistep history extrapolates saturated estimates into the next step.
/// </summary>
public sealed class DpmSolverMultistepScheduler : IDiffusionScheduler
{
    private readonly NoiseSchedule _schedule;
    private readonly int[] _timesteps;
    private readonly bool _clip;
    private readonly string _prediction;
    private float[] _previousX0 = [];
    private float[] _currentX0 = [];
    private double _previousLambda;
    private int _expectedIndex;

    public DpmSolverMultistepScheduler(NoiseSchedule schedule, int steps, bool clipDenoised = false, string prediction = PredictionType.Epsilon)
        : this(schedule, TimestepSpacing.Trailing(schedule.TrainTimesteps, steps), clipDenoised, prediction) { }

    public DpmSolverMultistepScheduler(NoiseSchedule schedule, IReadOnlyList<int> timesteps, bool clipDenoised = false, string prediction = PredictionType.Epsilon)
    {
        PredictionType.RequireCompatible(prediction, schedule);
        _prediction = prediction;
        _schedule = schedule;
        _timesteps = TimestepSpacing.Validated(schedule.TrainTimesteps, timesteps);
        _clip = clipDenoised;
    }

    public string Name => "dpm++2m";
    public IReadOnlyList<int> Timesteps => _timesteps;
    public bool IsStochastic => false;

    public void Step(int index, ReadOnlySpan<float> modelOutput, Span<float> sample, Func<float[]>? freshNoise)
    {
        // The history belongs to one trajectory: index 0 starts a new one; anything but the next index is a misuse
        // that would silently mix two trajectories' estimates.
        if (index == 0) _expectedIndex = 0;
        if (index != _expectedIndex)
            throw new InvalidOperationException($"DPM-Solver++ steps must run in order from 0; got step {index} after {_expectedIndex - 1}");
        bool hasHistory = index > 0 && _previousX0.Length == sample.Length;
        if (index > 0 && !hasHistory)
            throw new InvalidOperationException("DPM-Solver++: the batch changed size within one trajectory");
        if (_currentX0.Length != sample.Length) _currentX0 = new float[sample.Length];

        int t = _timesteps[index];
        int prev = index + 1 < _timesteps.Length ? _timesteps[index + 1] : -1;
        double abS = _schedule.AlphaBarAt(t), abT = _schedule.AlphaBarAt(prev);
        double alphaS = Math.Sqrt(abS), sigmaS = Math.Sqrt(1 - abS), alphaT = Math.Sqrt(abT), sigmaT = Math.Sqrt(1 - abT);
        double lambdaS = Math.Log(alphaS / sigmaS);
        // e^{-h} with h = λ_t − λ_s, written as a ratio so the final step (σ_t = 0, λ_t = ∞) stays finite, and so does a
        // zero-terminal-SNR first step (α_s = 0, λ_s = −∞: e^{-h} = 0, a DDIM step onto x̂₀; the next step's r₀ = ∞ keeps it first order).
        double expMinusH = sigmaT * alphaS / (alphaT * sigmaS);

        var estimate = DenoisedEstimate.At(_prediction, abS);
        for (int i = 0; i < sample.Length; i++)
            _currentX0[i] = estimate.Denoised(sample[i], modelOutput[i], _clip);

        float keep = (float)(sigmaT / sigmaS);
        float d0Weight = (float)(-alphaT * (expMinusH - 1));
        if (hasHistory && prev >= 0)
        {
            double h = Math.Log(alphaT / sigmaT) - lambdaS;
            double r0 = (lambdaS - _previousLambda) / h;
            float d1Weight = (float)(-0.5 * alphaT * (expMinusH - 1) / r0);
            for (int i = 0; i < sample.Length; i++)
                sample[i] = keep * sample[i] + d0Weight * _currentX0[i] + d1Weight * (_currentX0[i] - _previousX0[i]);
        }
        else
        {
            for (int i = 0; i < sample.Length; i++)
                sample[i] = keep * sample[i] + d0Weight * _currentX0[i];
        }
        (_previousX0, _currentX0) = (_currentX0, _previousX0);
        _previousLambda = lambdaS;
        _expectedIndex = index + 1;
    }
}
