using KneeOnnx.Diffusion;

namespace KneeOnnx.Schedulers;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2) on the data prediction x̂₀, with λ = log(α/σ), α = √ᾱ, σ = √(1−ᾱ).
/// The first step and the final step (onto x₀, where σ = 0) are first order, as in diffusers' lower_order_final.
/// x̂₀ is not clipped by default: the reference algorithm integrates the unclipped ODE, and clipping the multistep
/// history extrapolates saturated estimates into the next step.
/// <para>Deterministic, or with <c>stochastic</c> the SDE variant (SDE-DPM-Solver++(2M), Lu et al. 2022 §5; diffusers'
/// <c>sde-dpmsolver++</c>, midpoint): the same x̂₀ history, e^{-2h} where the ODE has e^{-h}, and fresh noise of
/// standard deviation σ_t√(1 − e^{-2h}). Its first-order step is exactly DDPM's posterior step, so it keeps the spread
/// that ancestral sampling keeps while the x̂₀ extrapolation lets it take fewer, longer steps.</para>
/// <para>With <c>order</c> 3, DPM-Solver++(3M) (Lu et al. 2022, Appendix B; diffusers' solver_order = 3): from the third
/// step on, the last three x̂₀ estimate the first and second λ-derivatives. The second step is second order (Taylor form).
/// Both together give SDE-DPM-Solver++(3M) (diffusers' <c>sde-dpmsolver++</c> with solver_order = 3, k-diffusion's
/// dpmpp_3m_sde): the same derivatives integrated against the SDE's kernel 2e^{-2(λ_t − λ)}.</para>
/// <para>The SDE variants take k-diffusion's <c>eta</c> (η ∈ (0, 1], default 1, the full SDE): x decays by (σ_t/σ_s)e^{-ηh},
/// x̂₀'s kernel is (1 + η)e^{-(1+η)(λ_t − λ)}, and the fresh noise has standard deviation σ_t√(1 − e^{-2ηh}) — for a fixed x̂₀
/// the step lands on the forward marginal q(x_t | x̂₀) for every η, so η only sets how much of each step's variance is fresh
/// noise rather than carried x (η → 0 is the ODE, as DDIM's η is between DDIM and DDPM). Less noise means less of the
/// discretisation error that a short SDE run leaves, more of the network's own error carried along (Karras et al. 2022
/// found an intermediate amount of fresh noise best at moderate step counts).</para>
/// </summary>
public sealed class DpmSolverMultistepScheduler : IDiffusionScheduler
{
    private readonly NoiseSchedule _schedule;
    private readonly int[] _timesteps;
    private readonly bool _clip;
    private readonly string _prediction;
    private readonly bool _stochastic;
    // The SDE's share of fresh noise: 1 for the full SDE, 0 for the ODE.
    private readonly double _eta;
    private readonly int _order;
    // x̂₀ of this step, the one before and the one before that (m0, m1, m2 in the paper), and λ of the last two.
    private float[] _currentX0 = [], _previousX0 = [], _olderX0 = [];
    private double _previousLambda, _olderLambda;
    private int _expectedIndex;

    public const string OdeName = "dpm++2m", SdeName = "dpm++2m-sde", ThirdOrderName = "dpm++3m", ThirdOrderSdeName = "dpm++3m-sde";

    /// <param name="eta">The SDE's η (see the summary); only with <paramref name="stochastic"/>.</param>
    public DpmSolverMultistepScheduler(NoiseSchedule schedule, int steps, bool clipDenoised = false, string prediction = PredictionType.Epsilon, bool stochastic = false,
                                       int order = 2, double eta = 1)
        : this(schedule, TimestepSpacing.Trailing(schedule.TrainTimesteps, steps), clipDenoised, prediction, stochastic, order, eta) { }

    public DpmSolverMultistepScheduler(NoiseSchedule schedule, IReadOnlyList<int> timesteps, bool clipDenoised = false, string prediction = PredictionType.Epsilon,
                                       bool stochastic = false, int order = 2, double eta = 1)
    {
        if (order is not (2 or 3)) throw new ArgumentOutOfRangeException(nameof(order), $"DPM-Solver++ order must be 2 or 3, got {order}");
        // η = 0 would be the ODE under the SDE's name; the ODE has its own (dpm++2m, dpm++3m), so a manifest's sampler and η never disagree.
        if (stochastic && !(eta > 0 && eta <= 1)) throw new ArgumentOutOfRangeException(nameof(eta), $"the SDE's η must be in (0, 1] (η = 0 is the ODE: dpm++2m or dpm++3m), got {eta}");
        PredictionType.RequireCompatible(prediction, schedule);
        _prediction = prediction;
        _schedule = schedule;
        _timesteps = TimestepSpacing.Validated(schedule.TrainTimesteps, timesteps);
        _clip = clipDenoised;
        _stochastic = stochastic;
        _eta = stochastic ? eta : 0;
        _order = order;
    }

    public string Name => (_stochastic, _order) switch { (true, 3) => ThirdOrderSdeName, (true, _) => SdeName, (false, 3) => ThirdOrderName, _ => OdeName };
    public IReadOnlyList<int> Timesteps => _timesteps;
    public bool IsStochastic => _stochastic;

    public void Step(int index, ReadOnlySpan<float> modelOutput, Span<float> sample, Func<float[]>? freshNoise)
    {
        // The history belongs to one trajectory: index 0 starts a new one; anything but the next index is a misuse
        // that would silently mix two trajectories' estimates.
        if (index == 0) _expectedIndex = 0;
        if (index != _expectedIndex)
            throw new InvalidOperationException($"DPM-Solver++ steps must run in order from 0; got step {index} after {_expectedIndex - 1}");
        if (index > 0 && _previousX0.Length != sample.Length)
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

        // Higher orders need earlier estimates and a finite step; the final step onto x₀ (h = ∞) is first order.
        int order = prev < 0 ? 1 : Math.Min(_order, index + 1);
        if (order == 3) ThirdOrderStep(sample, lambdaS, alphaT, sigmaT, sigmaS, expMinusH, freshNoise);
        else LowerOrderStep(order, sample, lambdaS, alphaT, sigmaT, sigmaS, expMinusH, freshNoise);

        (_olderX0, _previousX0, _currentX0) = (_previousX0, _currentX0, _olderX0);
        (_olderLambda, _previousLambda) = (_previousLambda, lambdaS);
        _expectedIndex = index + 1;
    }

    /// <summary>First order, or DPM-Solver++(2M)'s midpoint step; the SDE variant adds its noise to either.</summary>
    private void LowerOrderStep(int order, Span<float> sample, double lambdaS, double alphaT, double sigmaT, double sigmaS, double expMinusH, Func<float[]>? freshNoise)
    {
        var (keep, lost) = Decay(sigmaT, sigmaS, expMinusH);
        float keepF = (float)keep, d0Weight = (float)(alphaT * lost);
        var (z, zWeight) = StepNoise(sigmaT, expMinusH, freshNoise);
        if (order >= 2)
        {
            double h = Math.Log(alphaT / sigmaT) - lambdaS;
            double r0 = (lambdaS - _previousLambda) / h;
            float d1Weight = (float)(0.5 * alphaT * lost / r0);
            for (int i = 0; i < sample.Length; i++)
                sample[i] = keepF * sample[i] + d0Weight * _currentX0[i] + d1Weight * (_currentX0[i] - _previousX0[i]) + (z is null ? 0 : zWeight * z[i]);
        }
        else
        {
            for (int i = 0; i < sample.Length; i++)
                sample[i] = keepF * sample[i] + d0Weight * _currentX0[i] + (z is null ? 0 : zWeight * z[i]);
        }
    }

    /// <summary>
    /// What one step keeps of x, (σ_t/σ_s)e^{-ηh}, and the weight 1 − e^{-(1+η)h} its kernel gives a constant x̂₀ (times α_t);
    /// powers of e^{-h} rather than of h, so the final step (e^{-h} = 0) stays finite (0⁰ = 1 for the ODE).
    /// </summary>
    private (double Keep, double Lost) Decay(double sigmaT, double sigmaS, double expMinusH) =>
        (sigmaT / sigmaS * Power(expMinusH, _eta), 1 - Power(expMinusH, 1 + _eta));

    /// <summary>x^p, by multiplication where p is 0, 1 or 2, so the ODE and the full SDE keep the exact arithmetic (and bytes) they had before η.</summary>
    private static double Power(double x, double p) => p switch { 0 => 1, 1 => x, 2 => x * x, _ => Math.Pow(x, p) };

    /// <summary>The SDE's fresh noise and its standard deviation σ_t√(1 − e^{-2ηh}); none for the ODE or onto x₀.</summary>
    private (float[]? Noise, float Std) StepNoise(double sigmaT, double expMinusH, Func<float[]>? freshNoise)
    {
        double std = _stochastic ? sigmaT * Math.Sqrt(Math.Max(0, 1 - Power(expMinusH, 2 * _eta))) : 0;
        if (std <= 0) return (null, 0);
        return ((freshNoise ?? throw new ArgumentNullException(nameof(freshNoise), $"{Name} needs fresh noise"))(), (float)std);
    }

    /// <summary>
    /// DPM-Solver++(3M): from divided differences of m0, m1, m2, D1 = h·x̂₀′ and D2 = h²·x̂₀″/2 at λ_s (exact for an x̂₀
    /// quadratic in λ), and the exact integral of that Taylor polynomial x̂₀(λ_s + u) = D0 + (u/h)D1 + (u/h)²D2 against
    /// the step's kernel. The ODE's kernel is e^{-(h−u)}:
    /// x_t = (σ_t/σ_s) x − α_t(e^{-h} − 1) D0 + α_t((e^{-h} − 1)/h + 1) D1 + α_t(1 − 2(e^{-h} − 1 + h)/h²) D2.
    /// The reference code (Lu et al.'s and diffusers') weights D2 by α_t(½ − (e^{-h} − 1 + h)/h²), half of this: its
    /// step is not exact for a quadratic x̂₀ (SchedulerTests checks this one against the closed form).
    /// The SDE's kernel is 2e^{-2(h−u)}, with x decaying by (σ_t/σ_s)e^{-h} and noise refilling the lost variance:
    /// x_t = (σ_t/σ_s)e^{-h} x + α_t(1 − e^{-2h}) D0 + α_t(1 − (1 − e^{-2h})/2h) D1 + α_t(1 − 1/h + (1 − e^{-2h})/2h²) D2
    /// + σ_t√(1 − e^{-2h}) z (the same closed-form check, with z = 0). Both are one form in H = (1 + η)h, the kernel
    /// (1 + η)e^{-(1+η)(h−u)}: w0 = α_t(1 − e^{-H}), w1 = α_t(1 − (1 − e^{-H})/H), w2 = α_t(1 − 2(H − 1 + e^{-H})/H²),
    /// x kept by (σ_t/σ_s)e^{-ηh}; η = 0 gives the ODE's weights, η = 1 the SDE's.
    /// </summary>
    private void ThirdOrderStep(Span<float> sample, double lambdaS, double alphaT, double sigmaT, double sigmaS, double expMinusH, Func<float[]>? freshNoise)
    {
        double h = Math.Log(alphaT / sigmaT) - lambdaS;
        double r0 = (lambdaS - _previousLambda) / h, r1 = (_previousLambda - _olderLambda) / h;
        // λ of a zero-terminal-SNR start is −∞, so r1 (and then 1/r1, r0/(r0+r1), 1/(r0+r1)) may be ∞ (0): the step is
        // then the second-order Taylor step on m0, m1 alone.
        double inv0 = 1 / r0, inv1 = 1 / r1, share = double.IsInfinity(r1) ? 0 : r0 / (r0 + r1), inv01 = 1 / (r0 + r1);
        var (keep, lost) = Decay(sigmaT, sigmaS, expMinusH);
        double bigH = (1 + _eta) * h;
        double w0 = alphaT * lost, w1 = alphaT * (1 - lost / bigH), w2 = alphaT * (1 - 2 * (bigH - lost) / (bigH * bigH));
        var (z, zWeight) = StepNoise(sigmaT, expMinusH, freshNoise);
        for (int i = 0; i < sample.Length; i++)
        {
            double m0 = _currentX0[i], m1 = _previousX0[i], m2 = _olderX0[i];
            double d10 = inv0 * (m0 - m1), d11 = inv1 * (m1 - m2);
            double d1 = d10 + share * (d10 - d11), d2 = inv01 * (d10 - d11);
            sample[i] = (float)(keep * sample[i] + w0 * m0 + w1 * d1 + w2 * d2 + (z is null ? 0 : zWeight * z[i]));
        }
    }
}
