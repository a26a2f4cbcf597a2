using KneeOnnx.Diffusion;

namespace KneeOnnx.Schedulers;

/// <summary>
/// DDIM (Song et al. 2021, eq. 12): x_prev = √ᾱ_prev·x̂₀ + √(1−ᾱ_prev−σ²)·ε̂ + σ·z with
/// σ = η·√((1−ᾱ_prev)/(1−ᾱ_t))·√(1−ᾱ_t/ᾱ_prev); η = 0 is deterministic (the probability-flow ODE's first-order solver).
/// x̂₀ is clipped to [-1, 1] by default, as in diffusers' DDIM for pixel-space models: on an imperfect model the
/// unclipped ODE can drift to saturated images, which clipping (at the cost of some contrast) prevents.
/// </summary>
public sealed class DdimScheduler : IDiffusionScheduler
{
    private readonly NoiseSchedule _schedule;
    private readonly int[] _timesteps;
    private readonly double _eta;
    private readonly bool _clip;
    private readonly string _prediction;

    public DdimScheduler(NoiseSchedule schedule, int steps, double eta = 0, bool clipDenoised = true, string prediction = PredictionType.Epsilon)
        : this(schedule, TimestepSpacing.Trailing(schedule.TrainTimesteps, steps), eta, clipDenoised, prediction) { }

    public DdimScheduler(NoiseSchedule schedule, IReadOnlyList<int> timesteps, double eta = 0, bool clipDenoised = true, string prediction = PredictionType.Epsilon)
    {
        PredictionType.RequireCompatible(prediction, schedule);
        _prediction = prediction;
        _schedule = schedule;
        _timesteps = TimestepSpacing.Validated(schedule.TrainTimesteps, timesteps);
        _eta = eta;
        _clip = clipDenoised;
    }

    public string Name => SchedulerFactory.DdimName;
    public IReadOnlyList<int> Timesteps => _timesteps;
    public bool IsStochastic => _eta > 0;

    public void Step(int index, ReadOnlySpan<float> modelOutput, Span<float> sample, Func<float[]>? freshNoise)
    {
        int t = _timesteps[index];
        int prev = index + 1 < _timesteps.Length ? _timesteps[index + 1] : -1;
        double ab = _schedule.AlphaBarAt(t), abPrev = _schedule.AlphaBarAt(prev);
        double sigma = _eta * Math.Sqrt((1 - abPrev) / (1 - ab)) * Math.Sqrt(1 - ab / abPrev);
        float[]? z = sigma > 0 ? (freshNoise ?? throw new ArgumentNullException(nameof(freshNoise), "DDIM with eta > 0 needs fresh noise"))() : null;
        var estimate = DenoisedEstimate.At(_prediction, ab);
        float sqrtAbPrev = (float)Math.Sqrt(abPrev), direction = (float)Math.Sqrt(Math.Max(0, 1 - abPrev - sigma * sigma)), s = (float)sigma;
        for (int i = 0; i < sample.Length; i++)
        {
            float eps = estimate.Noise(sample[i], modelOutput[i]);
            float x0 = estimate.Denoised(sample[i], modelOutput[i], _clip);
            float next = sqrtAbPrev * x0 + direction * eps;
            sample[i] = z is null ? next : next + s * z[i];
        }
    }
}
