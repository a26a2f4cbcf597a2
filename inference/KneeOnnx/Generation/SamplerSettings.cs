using System.Globalization;
using KneeOnnx.Schedulers;

namespace KneeOnnx.Generation;

/// <summary>How to sample: which scheduler, how many model calls, DDIM's η and the classifier-free guidance scale.</summary>
public sealed record SamplerSettings
{
    /// <summary>The one default of every verb that samples (generate, grid, sample, evaluate) and of the README:
    /// DDPM at 50 steps measured best per model call on the shipped model (docs/samplers.md).</summary>
    public const string DefaultSampler = SchedulerFactory.DdpmName;
    public const int DefaultSteps = 50;
    /// <summary>The largest guidance scale accepted anywhere (CLI, metadata): far past where images stop being knees.</summary>
    public const double MaxGuidance = 50;

    public string Sampler { get; init; } = DefaultSampler;

    /// <summary>
    /// The sampler and steps a verb runs: what was asked for; where nothing was, the model's own measured pair
    /// (<see cref="Runtime.ModelInfo.DefaultSampler"/>), else <see cref="DefaultSampler"/>-<see cref="DefaultSteps"/>. Steps left
    /// out follow the sampler: the model's count for the model's sampler, the global count for another.
    /// </summary>
    public static (string Sampler, int Steps) Choose(string? sampler, int? steps, Runtime.ModelInfo? model)
    {
        string chosen = sampler ?? model?.DefaultSampler ?? DefaultSampler;
        int count = steps ?? (model?.DefaultSampler == chosen ? model.DefaultSteps : null) ?? DefaultSteps;
        return (chosen, count);
    }
    /// <summary>
    /// The guidance scale a verb runs: what was asked for, else the model's own measured scale, else 1 (none). A model
    /// with guidance distilled into it already samples guided, so it takes no scale but 1.
    /// </summary>
    public static double ChooseGuidance(double? guidance, Runtime.ModelInfo? model)
    {
        if (model?.DistilledGuidance is double baked && guidance is double asked && asked != 1.0)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--guidance {asked}: the model has guidance {baked} distilled into it and samples guided in one call; guiding it again would apply guidance twice (leave --guidance out)"));
        return guidance ?? model?.DefaultGuidance ?? 1.0;
    }
    /// <summary>
    /// The η a verb runs: what was asked for; else the model's own η when <paramref name="sampler"/> is the model's own
    /// sampler (it was measured with it, as the step count was); else null, the sampler's own (<see cref="SchedulerFactory.DefaultEta"/>).
    /// </summary>
    public static double? ChooseEta(double? eta, Runtime.ModelInfo? model, string sampler) =>
        eta ?? (model?.DefaultSampler == sampler ? model.DefaultEta : null);

    /// <summary>The noise levels guidance applies at: what was asked for, else the model's own interval, else every step (null).</summary>
    public static GuidanceInterval? ChooseGuidanceInterval(GuidanceInterval? interval, Runtime.ModelInfo? model) => interval ?? model?.DefaultGuidanceInterval;

    /// <summary>
    /// The timestep spacing a verb runs: what was asked for; else the model's own spacing when <paramref name="sampler"/>
    /// is the model's own sampler (the spacing was measured with it, as its step count was), else trailing.
    /// </summary>
    public static string ChooseSpacing(string? spacing, Runtime.ModelInfo? model, string sampler) =>
        spacing ?? (model?.DefaultSampler == sampler ? model.DefaultSpacing : null) ?? TimestepSpacing.TrailingName;

    public int Steps { get; init; } = DefaultSteps;
    /// <summary>Where the <see cref="Steps"/> model calls fall among the training timesteps (<see cref="TimestepSpacing.Names"/>).</summary>
    public string Spacing { get; init; } = TimestepSpacing.TrailingName;
    /// <summary>
    /// How much of each step's variance is fresh noise (<see cref="SchedulerFactory.TakesEta"/>): DDIM's η (0 deterministic)
    /// or the SDE solvers' (1 the full SDE, towards 0 the ODE; k-diffusion's <c>eta</c>). Null = the sampler's own
    /// (<see cref="SchedulerFactory.DefaultEta"/>), or the model's measured one with its own sampler (<see cref="ChooseEta"/>).
    /// </summary>
    public double? Eta { get; init; }
    /// <summary>The η the scheduler runs with (what manifests record): <see cref="Eta"/>, else the sampler's own.</summary>
    public double EffectiveEta => Eta ?? SchedulerFactory.DefaultEta(Sampler);
    /// <summary>1 = plain conditional sampling; above 1 pushes harder towards the grade (needs a model with a null grade).</summary>
    public double Guidance { get; init; } = 1.0;
    /// <summary>
    /// Where guidance applies, as noise-to-signal ratios σ_t = √((1 − ᾱ_t) / ᾱ_t): steps with σ_t in (Low, High] are
    /// guided, the others run the conditional model alone (one call instead of two). Null = every step. Guidance at
    /// high noise pulls every sample of a grade towards one layout (less variety, worse FID) and at low noise changes
    /// little (Kynkäänniemi et al. 2024, "Applying guidance in a limited interval").
    /// </summary>
    public GuidanceInterval? GuidanceInterval { get; init; }

    /// <summary>
    /// Autoguidance weight (Karras et al. 2024, "Guiding a diffusion model with a bad version of itself"): each step's
    /// prediction becomes ε_guide + w·(ε_model − ε_guide), ε_guide from a weaker model of the same kind (smaller, or
    /// trained for less) given the same grade, side and classifier-free guidance. 1 = off; needs a guide model.
    /// </summary>
    public double AutoGuidance { get; init; } = 1.0;

    /// <summary>The interval that changes anything: none without guidance.</summary>
    public GuidanceInterval? EffectiveGuidanceInterval => Guidance != 1 ? GuidanceInterval : null;

    /// <summary>The guidance scale of the step at <paramref name="timestep"/>: <see cref="Guidance"/> inside <see cref="GuidanceInterval"/>, else 1.</summary>
    public double GuidanceAt(int timestep, Diffusion.NoiseSchedule schedule) =>
        GuidanceInterval is { } interval && !interval.Contains(schedule.NoiseToSignal(timestep)) ? 1.0 : Guidance;

    /// <summary>
    /// Clip x̂₀ to [-1, 1] inside each step; null = the model's and sampler's default (<see cref="ClipFor"/>): DDPM and
    /// DDIM yes, DPM-Solver++ no, and never on a model whose samples have no such bound (latents).
    /// </summary>
    public bool? ClipDenoised { get; init; }

    /// <summary>
    /// A short tag naming these settings in file names, so runs with different settings never collide: the numbers are
    /// written in full (round-trip), since evaluate reuses a folder's images by this tag alone.
    /// </summary>
    public string Tag =>
        Sampler.Replace("+", "p") + Steps.ToString(CultureInfo.InvariantCulture)
        + (Spacing != TimestepSpacing.TrailingName ? "_" + Spacing : "")
        + (EffectiveEta != SchedulerFactory.DefaultEta(Sampler) ? "_eta" + EffectiveEta.ToString("R", CultureInfo.InvariantCulture) : "")
        + (Guidance != 1 ? "_w" + Guidance.ToString("R", CultureInfo.InvariantCulture) : "")
        + (EffectiveGuidanceInterval is { } interval ? "_gi" + interval.Tag : "")
        + (AutoGuidance != 1 ? "_ag" + AutoGuidance.ToString("R", CultureInfo.InvariantCulture) : "")
        + (ClipDenoised is bool clip ? (clip ? "_clip" : "_noclip") : "");

    /// <summary>The CLI spelling of <see cref="ClipDenoised"/>: auto | on | off.</summary>
    public static bool? ParseClip(string value) => value switch
    {
        "auto" => null,
        "on" => true,
        "off" => false,
        _ => throw new ArgumentException($"--clip-x0 '{value}' is not one of auto, on, off"),
    };

    /// <summary>What can be checked without the model (the sampler's name, η, the guidance range), so a command can refuse before it opens one; --steps needs the model's T.</summary>
    public SamplerSettings ValidateAlone()
    {
        if (!SchedulerFactory.Names.Contains(Sampler))
            throw new ArgumentException($"--sampler '{Sampler}' is not one of {string.Join(", ", SchedulerFactory.Names)}");
        ValidateEta();
        if (!(Guidance >= 0 && Guidance <= MaxGuidance)) throw new ArgumentException($"--guidance must be in 0..{MaxGuidance}, got {Guidance.ToString(CultureInfo.InvariantCulture)}");
        ValidateAutoGuidance();
        ValidateSpacing();
        return this;
    }

    public void Validate(Runtime.ModelInfo model)
    {
        if (!SchedulerFactory.Names.Contains(Sampler))
            throw new ArgumentException($"--sampler '{Sampler}' is not one of {string.Join(", ", SchedulerFactory.Names)}");
        int T = model.Schedule.TrainTimesteps;
        if (Steps < 1 || Steps > T) throw new ArgumentException($"--steps must be in 1..{T} (the model's T), got {Steps}");
        ValidateEta();
        if (!(Guidance >= 0 && Guidance <= MaxGuidance)) throw new ArgumentException($"--guidance must be in 0..{MaxGuidance}, got {Guidance.ToString(CultureInfo.InvariantCulture)}");
        if (Guidance != 1 && !model.SupportsGuidance)
            throw new ArgumentException($"--guidance {Guidance.ToString(CultureInfo.InvariantCulture)} needs a model trained with a null grade (label dropout); this one has none");
        ValidateAutoGuidance();
        ValidateSpacing();
        if (ClipDenoised == true && !model.ClipSample)
            throw new ArgumentException($"--clip-x0 on: this model's samples have no [-1, 1] bound to clip to ({(model.IsLatent ? $"{model.Channels}×{model.ImageSize}² latents, " : "")}'{Runtime.ModelContract.Keys.ClipSample}' = false); use auto or off");
    }

    private void ValidateEta()
    {
        if (Eta is double eta) CheckEta(Sampler, eta, "--eta");
    }

    /// <summary>η for <paramref name="sampler"/>, as the <paramref name="option"/> that gave it: a sampler that takes one, in its range.</summary>
    public static void CheckEta(string sampler, double eta, string option)
    {
        string given = eta.ToString(CultureInfo.InvariantCulture);
        if (!SchedulerFactory.TakesEta.Contains(sampler))
            throw new ArgumentException($"{option} {given}: {sampler} adds no noise for η to scale (it applies to {string.Join(", ", SchedulerFactory.TakesEta)})");
        if (!SchedulerFactory.EtaInRange(sampler, eta))
            throw new ArgumentException($"{option} must be in {SchedulerFactory.EtaRange(sampler)}{(sampler == SchedulerFactory.DdimName ? "" : " (η = 0 is the ODE: dpm++2m or dpm++3m)")} for {sampler}, got {given}");
    }

    private void ValidateAutoGuidance()
    {
        if (!(AutoGuidance >= 0 && AutoGuidance <= MaxGuidance)) throw new ArgumentException($"--autoguidance must be in 0..{MaxGuidance}, got {AutoGuidance.ToString(CultureInfo.InvariantCulture)}");
    }

    private void ValidateSpacing()
    {
        if (!TimestepSpacing.Names.Contains(Spacing))
            throw new ArgumentException($"--spacing '{Spacing}' is not one of {string.Join(", ", TimestepSpacing.Names)}");
    }

    /// <summary>
    /// The clipping the scheduler gets for <paramref name="model"/>: an explicit choice as given; for auto, the
    /// sampler's own default (null) where the model allows clipping, else none. Clipping is the model's property, not
    /// the sampler's: x̂₀ of a latent model has no [-1, 1] range, and clipping it would bend every image.
    /// </summary>
    public bool? ClipFor(Runtime.ModelInfo model) => ClipDenoised ?? (model.ClipSample ? null : false);
}
