using KneeOnnx.Diffusion;

namespace KneeOnnx.Schedulers;

/// <summary>Sampler names as the CLI and the manifest spell them.</summary>
public static class SchedulerFactory
{
    public const string DdpmName = "ddpm", DdimName = "ddim";

    /// <summary>Every name, as help texts list them (a constant, so option attributes can carry it).</summary>
    public const string NameList = DdpmName + " | " + DdimName + " | " + DpmSolverMultistepScheduler.OdeName + " | " + DpmSolverMultistepScheduler.ThirdOrderName
        + " | " + DpmSolverMultistepScheduler.SdeName + " | " + DpmSolverMultistepScheduler.ThirdOrderSdeName;

    public static readonly IReadOnlyList<string> Names = NameList.Split(" | ");

    /// <param name="clipDenoised">null = the sampler's own default: DDPM and DDIM clip x̂₀ to [-1, 1] (diffusers' defaults for pixel-space models), DPM-Solver++ (either variant) does not (the reference algorithm).
    /// That default suits pixel models only; callers resolve it against the model first (<see cref="Generation.SamplerSettings.ClipFor"/>).</param>
    /// <param name="prediction">What the network outputs (<see cref="PredictionType"/>), from the model's metadata.</param>
    /// <param name="spacing">Where the <paramref name="steps"/> calls fall among the training timesteps (<see cref="TimestepSpacing.Names"/>).</param>
    public static IDiffusionScheduler Create(string name, NoiseSchedule schedule, int steps, double eta = 0, bool? clipDenoised = null, string prediction = PredictionType.Epsilon,
                                             string spacing = TimestepSpacing.TrailingName)
    {
        if (!Names.Contains(name) && name is not ("dpm" or "dpmsolver"))
            throw new ArgumentException($"--sampler '{name}' is not one of {string.Join(", ", Names)}");
        var timesteps = TimestepSpacing.For(spacing, schedule, steps);
        return name switch
        {
            DdpmName => new DdpmScheduler(schedule, timesteps, clipDenoised ?? true, prediction),
            DdimName => new DdimScheduler(schedule, timesteps, eta, clipDenoised ?? true, prediction),
            DpmSolverMultistepScheduler.SdeName => new DpmSolverMultistepScheduler(schedule, timesteps, clipDenoised ?? false, prediction, stochastic: true),
            DpmSolverMultistepScheduler.ThirdOrderSdeName => new DpmSolverMultistepScheduler(schedule, timesteps, clipDenoised ?? false, prediction, stochastic: true, order: 3),
            DpmSolverMultistepScheduler.ThirdOrderName => new DpmSolverMultistepScheduler(schedule, timesteps, clipDenoised ?? false, prediction, order: 3),
            _ => new DpmSolverMultistepScheduler(schedule, timesteps, clipDenoised ?? false, prediction),
        };
    }
}
