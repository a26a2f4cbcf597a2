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

    /// <summary>The samplers whose amount of fresh noise η sets: DDIM (η = 0 deterministic, 1 DDPM-like) and the SDE solvers (η = 1 the full SDE).</summary>
    public static readonly IReadOnlyList<string> TakesEta = [DdimName, DpmSolverMultistepScheduler.SdeName, DpmSolverMultistepScheduler.ThirdOrderSdeName];

    /// <summary>η when none is given: 0 for DDIM, 1 (the full SDE) for the SDE solvers; 0, "none", for the samplers without one.</summary>
    public static double DefaultEta(string name) => name is DpmSolverMultistepScheduler.SdeName or DpmSolverMultistepScheduler.ThirdOrderSdeName ? 1 : 0;

    /// <summary>η's range for a sampler that takes one, as messages write it: DDIM's includes 0, the SDE solvers' does not (their η = 0 is the ODE, which has its own name).</summary>
    public static string EtaRange(string name) => name == DdimName ? "0..1" : "(0, 1]";

    public static bool EtaInRange(string name, double eta) => name == DdimName ? eta >= 0 && eta <= 1 : eta > 0 && eta <= 1;

    /// <param name="clipDenoised">null = the sampler's own default: DDPM and DDIM clip x̂₀ to [-1, 1] (diffusers' defaults for pixel-space models), DPM-Solver++ (either variant) does not (the reference algorithm).
    /// That default suits pixel models only; callers resolve it against the model first (<see cref="Generation.SamplerSettings.ClipFor"/>).</param>
    /// <param name="prediction">What the network outputs (<see cref="PredictionType"/>), from the model's metadata.</param>
    /// <param name="spacing">Where the <paramref name="steps"/> calls fall among the training timesteps (<see cref="TimestepSpacing.Names"/>).</param>
    /// <param name="eta">DDIM's or the SDE solvers' η; null = <see cref="DefaultEta"/>. Ignored by DDPM and the ODE solvers.</param>
    /// <param name="strength">Below 1, only the last calls of the trajectory (<see cref="TimestepSpacing.Partial"/>): the
    /// sampler then starts from a noised image at its first timestep instead of from pure noise.</param>
    public static IDiffusionScheduler Create(string name, NoiseSchedule schedule, int steps, double? eta = null, bool? clipDenoised = null, string prediction = PredictionType.Epsilon,
                                             string spacing = TimestepSpacing.TrailingName, double strength = 1)
    {
        if (!Names.Contains(name) && name is not ("dpm" or "dpmsolver"))
            throw new ArgumentException($"--sampler '{name}' is not one of {string.Join(", ", Names)}");
        var timesteps = TimestepSpacing.For(spacing, schedule, steps);
        if (strength != 1) timesteps = TimestepSpacing.Partial(timesteps, strength);
        return name switch
        {
            DdpmName => new DdpmScheduler(schedule, timesteps, clipDenoised ?? true, prediction),
            DdimName => new DdimScheduler(schedule, timesteps, eta ?? 0, clipDenoised ?? true, prediction),
            DpmSolverMultistepScheduler.SdeName => new DpmSolverMultistepScheduler(schedule, timesteps, clipDenoised ?? false, prediction, stochastic: true, eta: eta ?? 1),
            DpmSolverMultistepScheduler.ThirdOrderSdeName => new DpmSolverMultistepScheduler(schedule, timesteps, clipDenoised ?? false, prediction, stochastic: true, order: 3, eta: eta ?? 1),
            DpmSolverMultistepScheduler.ThirdOrderName => new DpmSolverMultistepScheduler(schedule, timesteps, clipDenoised ?? false, prediction, order: 3),
            _ => new DpmSolverMultistepScheduler(schedule, timesteps, clipDenoised ?? false, prediction),
        };
    }
}
