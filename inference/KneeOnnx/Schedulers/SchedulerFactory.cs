using KneeOnnx.Diffusion;

namespace KneeOnnx.Schedulers;

/// <summary>Sampler names as the CLI and the manifest spell them.</summary>
public static class SchedulerFactory
{
    public static readonly IReadOnlyList<string> Names = ["ddpm", "ddim", "dpm++2m"];

    public static IDiffusionScheduler Create(string name, NoiseSchedule schedule, int steps, double eta = 0) => name switch
    {
        "ddpm" => new DdpmScheduler(schedule, steps),
        "ddim" => new DdimScheduler(schedule, steps, eta),
        "dpm++2m" or "dpm" or "dpmsolver" => new DpmSolverMultistepScheduler(schedule, steps),
        _ => throw new ArgumentException($"--sampler '{name}' is not one of {string.Join(", ", Names)}"),
    };
}
