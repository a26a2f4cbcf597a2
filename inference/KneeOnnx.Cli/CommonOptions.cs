using CommandLine;
using KneeOnnx.Runtime;
using KneeOnnx.Schedulers;

namespace KneeOnnx.Cli;

/// <summary>Options every verb that runs the model shares.</summary>
public abstract class ModelOptions
{
    [Option("model", HelpText = "The exported .onnx model, or a model folder (unet/model.onnx with vae_decoder/model.onnx for a latent model) (default: the shipped model folder models/kneeonnx-default/, or $KNEEONNX_MODEL).")]
    public string? Model { get; set; }

    [Option("provider", Default = "auto", HelpText = "auto (CUDA if usable, else CPU) | cuda (fail if unusable) | cpu.")]
    public string Provider { get; set; } = "auto";

    [Option("device-id", Default = 0, HelpText = "CUDA device index.")]
    public int DeviceId { get; set; }

    [Option("threads", Default = 0, HelpText = "Threads per operator on the CPU (0 = all cores; at most 4 × the logical cores).")]
    public int Threads { get; set; }

    [Option("cuda-options", HelpText = "ONNX Runtime CUDA provider options, key=value,... e.g. cudnn_conv_algo_search=EXHAUSTIVE,prefer_nhwc=1,use_tf32=1.")]
    public string? CudaOptions { get; set; }

    [Option("io-binding", HelpText = "Bind the model's input and output buffers once per batch size (OrtIoBinding) instead of on every call.")]
    public bool IoBinding { get; set; }

    [Option("no-spin", HelpText = "Let ONNX Runtime's idle threads sleep instead of spinning: same images, slightly slower alone (10 % on a 2-core CPU), and it leaves the cores to training or other work sharing the CPU.")]
    public bool NoSpin { get; set; }

    public RuntimeOptions ToRuntime()
    {
        var provider = Provider switch
        {
            "auto" => ProviderRequest.Auto,
            "cuda" => ProviderRequest.Cuda,
            "cpu" => ProviderRequest.Cpu,
            _ => throw new ArgumentException($"--provider '{Provider}' is not one of auto, cuda, cpu"),
        };
        if (DeviceId < 0) throw new ArgumentException($"--device-id must be >= 0, got {DeviceId}");
        Validation.ThreadCount.Validate(Threads);
        return new RuntimeOptions
        {
            Provider = provider, DeviceId = DeviceId, IntraOpThreads = Threads, CudaOptions = CudaProviderSettings.Parse(CudaOptions), IoBinding = IoBinding, AllowSpinning = !NoSpin,
        };
    }

    /// <summary>The model this command reads (a file or a model folder): --model, else the default one.</summary>
    public string ModelPath => Model ?? DefaultModel.Locate();

    /// <summary>The model's inputs as output guards see them: the U-Net file, and the model folder when one was named.</summary>
    public (Validation.OutputGuard.Input[] Files, Validation.OutputGuard.Input[] Folders) ModelInputs()
    {
        var (unet, folder) = KneeModel.GuardInputs("--model", ModelPath);
        return ([unet], [folder]);
    }

    public KneeModel OpenModel(TextWriter output)
    {
        var model = KneeModel.Open(ModelPath, ToRuntime());
        output.WriteLine(model.ProviderLine);
        return model;
    }
}

/// <summary>Options of verbs that sample.</summary>
public abstract class SamplingOptions : ModelOptions
{
    [Option("sampler", HelpText = SchedulerFactory.NameList + " (default: the model's own, measured on val, when it names one; else ddpm).")]
    public string? Sampler { get; set; }

    [Option("steps", HelpText = "Model calls per image (1..T; default: the model's own count for its sampler, else 50).")]
    public int? Steps { get; set; }

    [Option("eta", HelpText = "The share of each step's variance that is fresh noise: DDIM's η (0..1; default 0, deterministic) or the SDE solvers' (dpm++2m-sde, dpm++3m-sde: (0, 1]; default 1, the full SDE; towards 0, the ODE). Default: the model's own with its own sampler when it names one.")]
    public double? Eta { get; set; }

    [Option("guidance", HelpText = "Classifier-free guidance scale (1 = none; needs a model with a null grade; default: the model's own, measured on val, when it names one; else 1).")]
    public double? Guidance { get; set; }

    [Option("guidance-interval", HelpText = "Guide only the steps whose noise level σ = √((1−ᾱ)/ᾱ) lies in (LOW, HIGH], e.g. 0.5,10 (HIGH may be inf); the others run the conditional model alone, once instead of twice (default: the model's own interval when it names one, else every step).")]
    public string? GuidanceInterval { get; set; }

    [Option("spacing", HelpText = "Where the sampler's steps fall among the training timesteps: trailing (uniform in t, starting at pure noise) | karras (EDM's noise levels, most steps at low noise, where the texture forms) (default: the model's own when it names one, else trailing).")]
    public string? Spacing { get; set; }

    [Option("guide-model", HelpText = "Autoguidance: a weaker model of the same kind (smaller, or trained for less; same schedule, grades, sides and latent space) whose prediction each step moves away from (Karras et al. 2024); needs --autoguidance.")]
    public string? GuideModel { get; set; }

    [Option("autoguidance", HelpText = "Autoguidance weight w: ε_guide + w·(ε_model − ε_guide) at every step (not 1; leave out both options for none); needs --guide-model.")]
    public double? AutoGuidance { get; set; }

    [Option("seed", Default = 0L, HelpText = "Seed; image i of grade g always starts from the same noise.")]
    public long Seed { get; set; }

    [Option("batch", Default = 16, HelpText = "Images denoised together.")]
    public int Batch { get; set; }

    [Option("clip-x0", Default = "auto", HelpText = "Clip the denoised estimate x̂₀ to [-1, 1] in every step: auto (DDPM and DDIM yes, DPM-Solver++ no; never for latent models) | on | off.")]
    public string ClipX0 { get; set; } = "auto";

    /// <summary>
    /// The settings, checked as far as they can be without the model (its T bounds --steps later); with
    /// <paramref name="model"/>, a sampler or step count left out is the model's own (<see cref="Generation.SamplerSettings.Choose"/>).
    /// </summary>
    public Generation.SamplerSettings ToSettings(Runtime.ModelInfo? model = null, string? forceSampler = null)
    {
        double autoGuidance = Generation.AutoGuidanceOptions.Weight(GuideModel, AutoGuidance);
        var (sampler, steps) = Generation.SamplerSettings.Choose(forceSampler ?? Sampler, Steps, model);
        // Without the model a sampler left out is not yet known (the model may name its own), so η is judged once it is.
        bool etaJudgeable = model is not null || (forceSampler ?? Sampler) is not null;
        if (!etaJudgeable && Eta is double early && !(early >= 0 && early <= 1))
            throw new ArgumentException($"--eta must be in 0..1, got {early.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        return new Generation.SamplerSettings
        {
            Sampler = sampler, Steps = steps, Eta = etaJudgeable ? Generation.SamplerSettings.ChooseEta(Eta, model, sampler) : null, Guidance = Generation.SamplerSettings.ChooseGuidance(Guidance, model), ClipDenoised = Generation.SamplerSettings.ParseClip(ClipX0),
            GuidanceInterval = Generation.SamplerSettings.ChooseGuidanceInterval(
                GuidanceInterval is null ? null : Generation.GuidanceInterval.Parse(GuidanceInterval, "--guidance-interval"), model),
            Spacing = Generation.SamplerSettings.ChooseSpacing(Spacing, model, sampler),
            AutoGuidance = autoGuidance,
        }.ValidateAlone();
    }

    /// <summary>The --guide-model opened with the model's provider and threads, without a decoder session (<see cref="KneeModel.OpenGuide"/>), and checked against it; or null.</summary>
    public KneeModel? OpenGuide(KneeModel model)
    {
        if (GuideModel is null) return null;
        var guide = KneeModel.OpenGuide(GuideModel, ToRuntime());
        try
        {
            GuideModelPairing.Check(model.Path, model.Info, model.DecoderInfo, guide.Path, guide.Info, guide.DecoderInfo);
            return guide;
        }
        catch
        {
            guide.Dispose();
            throw;
        }
    }

    /// <summary>The model's inputs as output guards see them, the guide model's file with them.</summary>
    public (Validation.OutputGuard.Input[] Files, Validation.OutputGuard.Input[] Folders) SamplingInputs()
    {
        var (files, folders) = ModelInputs();
        var (guide, guideFolder) = KneeModel.GuardInputs("--guide-model", GuideModel);
        return ([.. files, guide], [.. folders, guideFolder]);
    }
}
