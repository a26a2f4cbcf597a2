using KneeOnnx.Diffusion;

namespace KneeOnnx.Schedulers;

/// <summary>
/// Ancestral DDPM (Ho et al. 2020) with the "fixed small" posterior variance over any number of strided timesteps
/// (effective β = 1 − ᾱ_t/ᾱ_prev); the last step lands on x̂₀ (ᾱ_prev = 1). x̂₀ is clipped to [-1, 1] by default, as
/// in the reference implementation (the injected noise corrects the bias clipping adds).
/// </summary>
public sealed class DdpmScheduler : IDiffusionScheduler
{
    private readonly NoiseSchedule _schedule;
    private readonly int[] _timesteps;
    private readonly bool _clip;
    private readonly string _prediction;

    public DdpmScheduler(NoiseSchedule schedule, int steps, bool clipDenoised = true, string prediction = PredictionType.Epsilon)
        : this(schedule, TimestepSpacing.Trailing(schedule.TrainTimesteps, steps), clipDenoised, prediction) { }

    public DdpmScheduler(NoiseSchedule schedule, IReadOnlyList<int> timesteps, bool clipDenoised = true, string prediction = PredictionType.Epsilon)
    {
        PredictionType.RequireCompatible(prediction, schedule);
        _schedule = schedule;
        _timesteps = TimestepSpacing.Validated(schedule.TrainTimesteps, timesteps);
        _clip = clipDenoised;
        _prediction = prediction;
    }

    public string Name => SchedulerFactory.DdpmName;
    public IReadOnlyList<int> Timesteps => _timesteps;
    public bool IsStochastic => true;

    public void Step(int index, ReadOnlySpan<float> modelOutput, Span<float> sample, Func<float[]>? freshNoise)
    {
        int t = _timesteps[index];
        int prev = index + 1 < _timesteps.Length ? _timesteps[index + 1] : -1;
        var c = DdpmPosterior.For(_schedule, t, prev);
        float[]? z = c.StdDev > 0 ? (freshNoise ?? throw new ArgumentNullException(nameof(freshNoise), "DDPM needs fresh noise"))() : null;
        var estimate = DenoisedEstimate.At(_prediction, _schedule.AlphaBarAt(t));
        float m0 = (float)c.MeanFromX0, mt = (float)c.MeanFromSample, sd = (float)c.StdDev;
        for (int i = 0; i < sample.Length; i++)
        {
            float x0 = estimate.Denoised(sample[i], modelOutput[i], _clip);
            float next = m0 * x0 + mt * sample[i];
            sample[i] = z is null ? next : next + sd * z[i];
        }
    }
}
