using CommandLine;
using KneeOnnx.Generation;

namespace KneeOnnx.Training.Cli;

[Verb("evaluate", HelpText = "Compare generated images with real ones: FID-RN18 per grade with its real-vs-real floor, a memorisation audit against the training set, with --classifier grade fidelity, Spearman ρ and KL-IS, with --augment the augmentation benefit; writes OUT/report.json and report.md.")]
public sealed class EvaluateOptions : TorchOptions
{
    [Option("generated", HelpText = "Folder of generated images, <grade>/*.png. Or give --model to generate them here.")]
    public string? Generated { get; set; }

    [Option("model", HelpText = "Generate the evaluated set from this .onnx first (into OUT/generated; --per-grade, --sampler, --steps, --gen-seed).")]
    public string? Model { get; set; }

    [Option("per-grade", Default = 100, HelpText = "With --model: images generated per grade.")]
    public int PerGrade { get; set; }

    [Option("sampler", HelpText = "With --model: " + KneeOnnx.Schedulers.SchedulerFactory.NameList + " (default: the model's own sampler, else ddpm).")]
    public string? Sampler { get; set; }

    [Option("steps", HelpText = "With --model: denoising steps (default: the model's own count for its sampler, else 50).")]
    public int? Steps { get; set; }

    [Option("gen-seed", Default = 1L, HelpText = "With --model: generation seed.")]
    public long GenSeed { get; set; }

    [Option("guidance", HelpText = "With --model: classifier-free guidance scale (1 = none; default: the model's own when it names one, else 1).")]
    public double? Guidance { get; set; }

    [Option("guidance-interval", HelpText = "With --model: guide only steps whose noise level σ = √((1−ᾱ)/ᾱ) lies in (LOW, HIGH], e.g. 0.5,10 (HIGH may be inf); the other steps run the conditional model alone (default: the model's own interval when it names one, else every step).")]
    public string? GuidanceInterval { get; set; }

    [Option("guide-model", HelpText = "With --model: autoguidance by this weaker model of the same kind (smaller, or trained for less; same schedule, grades, sides and latent space); needs --autoguidance.")]
    public string? GuideModel { get; set; }

    [Option("autoguidance", HelpText = "With --model and --guide-model: the autoguidance weight w, ε_guide + w·(ε_model − ε_guide) at every step (not 1; leave out both options for none).")]
    public double? AutoGuidance { get; set; }

    [Option("eta", HelpText = "With --model: the share of each step's variance that is fresh noise, for ddim (0..1, default 0) and the SDE solvers ((0, 1], default 1, the full SDE) (default: the model's own with its own sampler when it names one).")]
    public double? Eta { get; set; }

    [Option("spacing", HelpText = "With --model: where the sampler's steps fall among the training timesteps: trailing (uniform in t) | karras (EDM's σ spacing, most steps at low noise) (default: the model's own when it names one, else trailing).")]
    public string? Spacing { get; set; }

    [Option("max-minutes", HelpText = "With --model: stop the generation before a batch that would end after this many minutes (a DDPM-1000 set on a CPU spans sessions); the same command again makes the rest, then evaluates.")]
    public double? MaxMinutes { get; set; }

    [Option("no-spin", HelpText = "With --model: let ONNX Runtime's idle threads sleep instead of spinning (kinder to training sharing the CPU).")]
    public bool NoSpin { get; set; }

    [Option("sides", HelpText = "With --model of a side-conditioned model: L, R, L,R or any (default); --per-grade images per listed side.")]
    public string? Sides { get; set; }

    [Option("side-classifier", HelpText = "Side classifier (train-classifier --target side) for the side check: its accuracy on real val images and on generated images per requested side.")]
    public string? SideClassifier { get; set; }

    [Option("data", HelpText = "Dataset root: shorthand for --real ROOT/val --train ROOT/train.")]
    public string? Data { get; set; }

    [Option("real", HelpText = "Folder of real images to compare with, <grade>/*.png (e.g. the val split).")]
    public string? Real { get; set; }

    [Option("train", HelpText = "The training images, <grade>/*.png (floor sample and memorisation audit).")]
    public string? Train { get; set; }

    [Option("out", Required = true, HelpText = "Report folder.")]
    public string Out { get; set; } = "";

    [Option("limit", HelpText = "At most this many generated and real images per grade.")]
    public int? Limit { get; set; }

    [Option("classifier", HelpText = "Reference KL classifier (from train-classifier) for grade fidelity, the ordinal check and KL-IS.")]
    public string? Classifier { get; set; }

    [Option("seed", Default = 0L, HelpText = "Seed of the floor sample.")]
    public long Seed { get; set; }

    [Option("augment", HelpText = "Also measure the augmentation benefit: train the reference classifier on --train, and on --train plus the generated images, compare on --real (at the --classifier's size and widths when given).")]
    public bool Augment { get; set; }

    [Option("augment-epochs", Default = 10, HelpText = "Epochs of each augmentation-benefit classifier run.")]
    public int AugmentEpochs { get; set; }

    [Option("augment-per-grade", HelpText = "At most N generated images per grade added for the augmentation benefit (default: all).")]
    public int? AugmentPerGrade { get; set; }

    [Option("denoise-check", HelpText = "With --model: also noise N real val images per grade with known noise at t = 0.1T, 0.3T, … T−1, denoise each in one model call and report x̂₀ and ε̂ errors beside the average image's (seconds; no sampling).")]
    public int? DenoiseCheck { get; set; }

    [Option("threads", Default = 0, HelpText = "CPU threads for generation, the denoising check, ResNet-18 features and classifiers, --augment's training included (0 = all cores; at most 4 × the logical cores); 1 leaves a core to training beside it.")]
    public int Threads { get; set; }

    [Option("no-feature-cache", HelpText = "Do not keep ResNet-18 features of whole folders in ~/.cache/kneeonnx/features (or $XDG_CACHE_HOME).")]
    public bool NoFeatureCache { get; set; }

    public Evaluation.EvaluationRequest ToRequest()
    {
        if ((Generated is null) == (Model is null)) throw new ArgumentException("give exactly one of --generated DIR and --model FILE.onnx");
        string real = Real ?? (Data is not null ? Path.Combine(Data, "val") : throw new ArgumentException("--real (or --data) is required"));
        string train = Train ?? (Data is not null ? Path.Combine(Data, "train") : throw new ArgumentException("--train (or --data) is required"));
        if (Model is not null && PerGrade < 2) throw new ArgumentException($"--per-grade must be at least 2 (FID needs two images), got {PerGrade}");
        if (Model is not null && Steps < 1) throw new ArgumentException($"--steps must be at least 1, got {Steps}");
        if (Model is not null && Sampler is not null && !KneeOnnx.Schedulers.SchedulerFactory.Names.Contains(Sampler))
            throw new ArgumentException($"--sampler '{Sampler}' is not one of {string.Join(", ", KneeOnnx.Schedulers.SchedulerFactory.Names)}");
        if (Guidance is double w && !(w >= 0 && w <= SamplerSettings.MaxGuidance)) throw new ArgumentException($"--guidance must be in 0..{SamplerSettings.MaxGuidance}, got {w}");
        if (Model is null && Guidance is not null) throw new ArgumentException("--guidance chooses how --model generates; it cannot be used with --generated");
        if (Model is null && GuidanceInterval is not null) throw new ArgumentException("--guidance-interval chooses how --model generates; it cannot be used with --generated");
        if (Model is null && (GuideModel is not null || AutoGuidance is not null)) throw new ArgumentException("--guide-model and --autoguidance choose how --model generates; they cannot be used with --generated");
        double autoGuidance = AutoGuidanceOptions.Weight(GuideModel, AutoGuidance);
        if (Eta is double eta && !(eta >= 0 && eta <= 1)) throw new ArgumentException($"--eta must be in 0..1, got {eta.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        if (Model is null && Eta is not null) throw new ArgumentException("--eta chooses how --model generates; it cannot be used with --generated");
        if (Model is null && Spacing is not null) throw new ArgumentException("--spacing chooses how --model generates; it cannot be used with --generated");
        if (Spacing is not null && !KneeOnnx.Schedulers.TimestepSpacing.Names.Contains(Spacing))
            throw new ArgumentException($"--spacing '{Spacing}' is not one of {string.Join(", ", KneeOnnx.Schedulers.TimestepSpacing.Names)}");
        var interval = GuidanceInterval is null ? (KneeOnnx.Generation.GuidanceInterval?)null : KneeOnnx.Generation.GuidanceInterval.Parse(GuidanceInterval, "--guidance-interval");
        if (Limit is < 1) throw new ArgumentException($"--limit must be at least 1, got {Limit}");
        if (Augment && AugmentEpochs < 1) throw new ArgumentException($"--augment-epochs must be at least 1, got {AugmentEpochs}");
        if (AugmentPerGrade is < 1) throw new ArgumentException($"--augment-per-grade must be at least 1, got {AugmentPerGrade}");
        KneeOnnx.Validation.ThreadCount.Validate(Threads);
        if (DenoiseCheck is < 1) throw new ArgumentException($"--denoise-check must be at least 1 image per grade, got {DenoiseCheck}");
        if (DenoiseCheck is not null && Model is null) throw new ArgumentException("--denoise-check runs the model on real images: it needs --model");
        // Reports and generated images go under --out: never into the real or training images, never beside the model or classifier read.
        var (modelFile, modelFolder) = KneeOnnx.Runtime.KneeModel.GuardInputs("--model", Model);
        var (guideFile, guideFolder) = KneeOnnx.Runtime.KneeModel.GuardInputs("--guide-model", GuideModel);
        KneeOnnx.Validation.OutputGuard.Folder(Out, "--out", [modelFile, guideFile, new("--classifier", Classifier), new("--side-classifier", SideClassifier)],
            [new(Real is null ? "--data" : "--real", real), new(Train is null ? "--data" : "--train", train), new("--generated", Generated), modelFolder, guideFolder]);
        if (Sides is not null && Model is null) throw new ArgumentException("--sides chooses what --model generates; it cannot be used with --generated");
        if (MaxMinutes is not null && Model is null) throw new ArgumentException("--max-minutes limits how long --model generates; it cannot be used with --generated");
        var stopBy = KneeOnnx.Validation.TimeLimit.StopBy(MaxMinutes, DateTime.UtcNow);
        var generate = Model is null ? null : new Evaluation.GenerateRequest(Model, PerGrade, Sampler, Steps, GenSeed, Guidance: Guidance, Sides: Sides, AllowSpinning: !NoSpin, GuidanceInterval: interval, Spacing: Spacing, Eta: Eta, Threads: Threads,
            StopBy: stopBy, GuideModel: GuideModel, AutoGuidance: autoGuidance);
        return new(Generated ?? Path.Combine(Out, "generated"), real, train, Out, Limit, Seed, Classifier,
            Augment ? new Evaluation.AugmentRequest(AugmentEpochs, AugmentPerGrade) : null, generate,
            NoFeatureCache ? null : Evaluation.FeatureCache.DefaultDirectory(), SideClassifier, DenoiseCheck, Threads);
    }
}

internal static class EvaluateCommand
{
    public static int Run(EvaluateOptions o, TextWriter output)
    {
        var request = o.ToRequest();
        // The ResNet-18 features and the classifiers run in TorchSharp, the generation in ONNX Runtime: --threads bounds both.
        LibTorch.TorchDevice.SetThreads(o.Threads);
        // Stopped by --max-minutes is a planned end, as for the training verbs: exit 0, the log says what is left.
        Evaluation.Evaluator.Run(request, output);
        return 0;
    }
}
