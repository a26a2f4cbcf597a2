using System.Diagnostics;
using CommandLine;
using KneeOnnx.Runtime;
using KneeOnnx.Generation;
using KneeOnnx.Output;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.LibTorch;
using TorchSharp;

namespace KneeOnnx.Training.Cli;

[Verb("sample", HelpText = "Sample images from a checkpoint with TorchSharp (no export needed) into OUT/<grade>/*.png, through the same sampling loop, samplers and file names as kneeonnx-gen generate.")]
public sealed class SampleOptions : TorchOptions
{
    [Option("checkpoint", Required = true, HelpText = "RUNDIR or a .ckpt file.")]
    public string Checkpoint { get; set; } = "";

    [Option("grades", Default = "all", HelpText = "Grades to sample, e.g. 0,2,4 (default all).")]
    public string Grades { get; set; } = "all";

    [Option("sides", HelpText = "Side-conditioned checkpoints: L, R, L,R (--per-grade images of each) or any (default).")]
    public string? Sides { get; set; }

    [Option("per-grade", Default = 8, HelpText = "Images per grade (per side with --sides L,R).")]
    public int PerGrade { get; set; }

    [Option("out", Required = true, HelpText = "Output folder; images go to OUT/<grade>/.")]
    public string Out { get; set; } = "";

    [Option("sampler", Default = SamplerSettings.DefaultSampler, HelpText = KneeOnnx.Schedulers.SchedulerFactory.NameList + ".")]
    public string Sampler { get; set; } = SamplerSettings.DefaultSampler;

    [Option("steps", HelpText = "Model calls per image (1..T; default 50, or T if the model has fewer timesteps).")]
    public int? Steps { get; set; }

    [Option("spacing", Default = KneeOnnx.Schedulers.TimestepSpacing.TrailingName, HelpText = "trailing | karras: where the steps fall among the training timesteps.")]
    public string Spacing { get; set; } = KneeOnnx.Schedulers.TimestepSpacing.TrailingName;

    [Option("guidance", HelpText = "Classifier-free guidance scale (1 = none, the default; needs a checkpoint trained with label dropout), as kneeonnx-gen's --guidance.")]
    public double? Guidance { get; set; }

    [Option("guide-model", HelpText = "Autoguidance by an exported weaker model of the same kind (DIR or M.onnx; same schedule, grades, sides and latent space), as kneeonnx-gen's; needs --autoguidance.")]
    public string? GuideModel { get; set; }

    [Option("autoguidance", HelpText = "Autoguidance weight w: ε_guide + w·(ε_checkpoint − ε_guide) at every step (not 1; leave out both options for none); needs --guide-model.")]
    public double? AutoGuidance { get; set; }

    [Option("seed", Default = 0L, HelpText = "Seed; image i of grade g always starts from the same noise.")]
    public long Seed { get; set; }

    [Option("batch", Default = 16, HelpText = "Images denoised together.")]
    public int Batch { get; set; }

    [Option("raw", HelpText = "Use the raw weights instead of the EMA weights.")]
    public bool Raw { get; set; }

    [Option("device", Default = "auto", HelpText = "auto | cpu | cuda.")]
    public string Device { get; set; } = "auto";

    [Option("threads", Default = 0, HelpText = "CPU threads (0 = all cores; at most 4 × the logical cores).")]
    public int Threads { get; set; }
}

internal static class SampleCommand
{
    public static int Run(SampleOptions o, TextWriter output)
    {
        if (o.PerGrade <= 0) throw new ArgumentException($"--per-grade must be at least 1, got {o.PerGrade}");
        if (o.Batch <= 0) throw new ArgumentException($"--batch must be at least 1, got {o.Batch}");
        if (o.Steps is < 1) throw new ArgumentException($"--steps must be at least 1, got {o.Steps}");
        double autoGuidance = AutoGuidanceOptions.Weight(o.GuideModel, o.AutoGuidance);
        new SamplerSettings { Sampler = o.Sampler, Spacing = o.Spacing, Guidance = o.Guidance ?? 1, AutoGuidance = autoGuidance }.ValidateAlone();
        KneeOnnx.Validation.ThreadCount.Validate(o.Threads);
        TorchDevice.ValidateChoice(o.Device);
        int[] grades = GradeList.Parse(o.Grades, KlGrades.Count);
        string path = Runs.Checkpoint.Locate(o.Checkpoint);
        var (guideFile, guideFolder) = KneeModel.GuardInputs("--guide-model", o.GuideModel);
        KneeOnnx.Validation.OutputGuard.Folder(o.Out, "--out", [new("--checkpoint", path), guideFile], [guideFolder]);

        TorchDevice.SetThreads(o.Threads);
        var (device, line) = TorchDevice.Resolve(o.Device);
        output.WriteLine(line);
        // The guide runs on ONNX Runtime beside TorchSharp: on the same device, and without spinning threads, which
        // would take the cores TorchSharp's calls need between the guide's.
        using var guide = o.GuideModel is null ? null : KneeModel.OpenGuide(o.GuideModel, new RuntimeOptions
        {
            Provider = device.type == DeviceType.CUDA ? ProviderRequest.Cuda : ProviderRequest.Cpu, IntraOpThreads = o.Threads, AllowSpinning = false,
        });
        if (guide is not null) output.WriteLine($"guide: {guide.ProviderLine}");
        var (state, model) = Runs.Checkpoint.LoadModel(path, o.Raw);
        using var _ = model;
        model.to(device);
        using var predictor = new TorchNoisePredictor(model, TorchNoisePredictor.InfoFor(state, path), device);
        var settings = new SamplerSettings
        {
            Sampler = o.Sampler, Spacing = o.Spacing, Steps = o.Steps ?? Math.Min(SamplerSettings.DefaultSteps, predictor.Info.Schedule.TrainTimesteps),
            Guidance = SamplerSettings.ChooseGuidance(o.Guidance, null), AutoGuidance = autoGuidance,
        };
        settings.Validate(predictor.Info);
        // A latent checkpoint decodes through its autoencoder's exported decoder, as its export will.
        using var kneeDecoder = predictor.Info.IsLatent ? KneeDecoder.Open(path, predictor.Info) : null;
        if (guide is not null)
        {
            GuideModelPairing.Check(path, predictor.Info, kneeDecoder?.Info, guide.Path, guide.Info, guide.DecoderInfo);
            GuideModelPairing.CheckGuidance(guide.Path, guide.Info, settings.Guidance);
        }
        var plan = GenerationPlan.Build(grades, o.PerGrade, o.Seed, settings, Shard.Whole, SideList.Parse(o.Sides, predictor.Info));
        output.WriteLine($"sampling {o.PerGrade} per grade with {settings.Sampler}-{settings.Steps}{(settings.Guidance != 1 ? $", guidance {settings.Guidance.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "")}{AutoGuidanceOptions.Describe(autoGuidance, guide)} from {path} ({state.Model.Preset}, step {state.Step}, {(o.Raw ? "raw" : "EMA")} weights)");

        var timer = Stopwatch.StartNew();
        using var generator = new ImageGenerator(predictor, decoder: kneeDecoder is null ? null : new LatentDecoder(kneeDecoder), ownsDecoder: true,
            guide: guide is null ? null : new NoiseEstimator(guide), ownsGuide: true);
        foreach (int g in grades) Directory.CreateDirectory(Path.Combine(o.Out, g.ToString()));
        try
        {
            generator.WritePlanned(plan, o.Seed, settings, o.Out, o.Batch, progress: new ThrottledProgressWriter(output, TimeSpan.FromSeconds(5)));
        }
        catch (Exception e) when (Runtime.OutOfMemory.Is(e))
        {
            // Images already written stay; the error names the batch that did not fit.
            throw new Runtime.DeviceOutOfMemoryException(Runtime.OutOfMemory.Describe(e, o.Batch, "--batch"), e);
        }
        output.WriteLine($"wrote {plan.Count} images to {o.Out} in {timer.Elapsed.TotalSeconds.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)}s");
        return 0;
    }
}
