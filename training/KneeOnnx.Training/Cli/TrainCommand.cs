using System.Runtime.InteropServices;
using System.Text.Json;
using CommandLine;
using KneeOnnx.Training.Runs;
using KneeOnnx.Training.LibTorch;
using KneeOnnx.Validation;

namespace KneeOnnx.Training.Cli;

[Verb("train", HelpText = "Train the grade-conditioned diffusion U-Net on DIR/train; checkpoints, config, loss.csv and loss.png go to RUNDIR.")]
public sealed class TrainOptions : TorchOptions
{
    [Option("data", HelpText = "Dataset root holding train/<grade 0..4>/*.png (and val/). Required unless --resume.")]
    public string? Data { get; set; }

    [Option("out", Required = true, HelpText = "Run folder (RUNDIR) for checkpoint.ckpt, config.json, loss.csv, loss.png.")]
    public string Out { get; set; } = "";

    [Option("config", HelpText = "JSON file of training settings (TrainConfig field names); options given here override it.")]
    public string? ConfigFile { get; set; }

    [Option("preset", HelpText = "tiny (32²) | small (64², default) | paper (128², the report's U-Net) | paper-224 (the report's U-Net at the data's native 224²) | latent-xs, latent-s, latent-m (with --autoencoder: on its 4×32² latents).")]
    public string? Preset { get; set; }

    [Option("image-size", HelpText = "Train at this side instead of the preset's, e.g. 224 for the data's native resolution (a multiple of 2^(levels-1): 4 for tiny, 8 for small, 32 for paper).")]
    public int? ImageSize { get; set; }

    [Option("sides", HelpText = "Condition on the knee side (L/R from the file names, plus a null side for 'either') as well as the grade; flips swap the side. With --init-from, adds the side embedding to that model.")]
    public bool Sides { get; set; }

    [Option("side-lr-factor", HelpText = "The side embedding learns at this multiple of the learning rate (default 10): a new side embedding must grow to the size of a trained grade embedding's.")]
    public double? SideLrFactor { get; set; }

    [Option("cond", HelpText = "Grade conditioning: add (default; embedding added to the timestep embedding) | concat (embedding channels appended to the input) | none.")]
    public string? Cond { get; set; }

    [Option("steps", HelpText = "Total optimiser steps (default 10000). With --resume, a new total.")]
    public int? Steps { get; set; }

    [Option("batch", HelpText = "Images per step (default 16).")]
    public int? Batch { get; set; }

    [Option("micro-batch", HelpText = "Images per forward/backward pass: each step's --batch is split into pieces this large and their gradients added, the same gradient in less memory (default: the whole batch). Kept by --resume unless given again.")]
    public int? MicroBatch { get; set; }

    [Option("seed", HelpText = "Seed for initialisation, batches and noise (default 1).")]
    public long? Seed { get; set; }

    [Option("device", Default = "auto", HelpText = "auto | cpu | cuda.")]
    public string Device { get; set; } = "auto";

    [Option("threads", Default = 0, HelpText = "CPU threads for TorchSharp (0 = all cores; at most 4 × the logical cores).")]
    public int Threads { get; set; }

    [Option("resume", HelpText = "Continue the run in --out from its checkpoint, exactly where it stopped.")]
    public bool Resume { get; set; }

    [Option("init-from", HelpText = "Start from the weights of an exported FILE.onnx (fine-tune on your data, or continue a shipped model); its architecture and noise schedule are used, so --preset/--cond/--beta-schedule/--timesteps cannot be given.")]
    public string? InitFrom { get; set; }

    [Option("distill-guidance", HelpText = "Distil classifier-free guidance at this scale W into the model (needs --init-from, the teacher, a model with a null grade): the student learns the teacher's guided prediction, so it samples in one network call per step where guidance took two; its export carries W and samples unguided.")]
    public double? DistillGuidance { get; set; }

    [Option("teacher", HelpText = "With --distill-guidance: the guided model to learn from when it is not the --init-from file (continuing a distillation from its own export).")]
    public string? Teacher { get; set; }

    [Option("up-blocks", HelpText = "ResNet blocks per decoder level, fewer than the usual blocks-per-level + 1: a lean U-Net (each decoder level then concatenates only its deepest skips). With --init-from and --distill-guidance it is a cheaper student that keeps the file's other weights and learns the teacher's prediction (keep the plain loss, --min-snr-gamma 0).")]
    public int? UpBlocks { get; set; }

    [Option("lr", HelpText = "Peak AdamW learning rate (default 1e-4).")]
    public double? LearningRate { get; set; }

    [Option("warmup", HelpText = "Linear warm-up steps before the cosine decay (default 500).")]
    public int? Warmup { get; set; }

    [Option("final-lr-fraction", HelpText = "The cosine decay ends at this fraction of the peak learning rate, in [0, 1] (default 0.1).")]
    public double? FinalLrFraction { get; set; }

    [Option("weight-decay", HelpText = "AdamW weight decay, >= 0 (default 0).")]
    public double? WeightDecay { get; set; }

    [Option("grad-clip", HelpText = "Clip the gradient's global norm to this value, > 0 (default 1).")]
    public double? GradClip { get; set; }

    [Option("ema", HelpText = "Largest EMA decay; the decay warms up as (1+step)/(10+step) (default 0.999).")]
    public double? Ema { get; set; }

    [Option("label-dropout", HelpText = "Probability of training on the null grade, enabling classifier-free guidance; 0 disables (default 0.1).")]
    public double? LabelDropout { get; set; }

    [Option("balance", HelpText = "Grade sampling: sqrt (default) | balanced | none.")]
    public string? Balance { get; set; }

    [Option("no-flip", HelpText = "Disable random horizontal flips.")]
    public bool NoFlip { get; set; }

    [Option("min-snr-gamma", HelpText = "Min-SNR-γ loss weighting (e.g. 5); 0 = plain MSE of the prediction (default 0).")]
    public double? MinSnrGamma { get; set; }

    [Option("prediction", HelpText = "What the U-Net learns to output: epsilon (default; the noise) | v_prediction (the velocity √ᾱ·ε − √(1−ᾱ)·x₀).")]
    public string? Prediction { get; set; }

    [Option("zero-terminal-snr", HelpText = "Rescale the β schedule so the last step holds no signal (Lin et al. 2024; fixes brightness drift); needs --prediction v_prediction.")]
    public bool ZeroTerminalSnr { get; set; }

    [Option("beta-schedule", HelpText = "linear (default; 1e-4..0.02) | cosine.")]
    public string? BetaSchedule { get; set; }

    [Option("timesteps", HelpText = "Diffusion steps T (default 1000).")]
    public int? Timesteps { get; set; }

    [Option("beta-start", HelpText = "First β of the linear schedule (default 1e-4).")]
    public double? BetaStart { get; set; }

    [Option("beta-end", HelpText = "Last β of the linear schedule (default 0.02).")]
    public double? BetaEnd { get; set; }

    [Option("checkpoint-every", HelpText = "Steps between checkpoints (default 250).")]
    public int? CheckpointEvery { get; set; }

    [Option("max-minutes", HelpText = "Stop cleanly with a checkpoint this many minutes after the command started, loading and encoding included (resume later).")]
    public double? MaxMinutes { get; set; }

    [Option("latent-cache", HelpText = "Folder for the encoded train latents of a latent model, one file per encoder and data set (default: $XDG_CACHE_HOME/kneeonnx/latents, else ~/.cache/kneeonnx/latents).")]
    public string? LatentCache { get; set; }

    [Option("stop-at-step", HelpText = "Stop cleanly with a checkpoint when the run reaches this step (the learning-rate schedule still follows --steps): equal-step pilots, or a stop on a step boundary.")]
    public long? StopAtStep { get; set; }

    [Option("log-every", Default = 50, HelpText = "Steps between progress lines when output is not a terminal.")]
    public int LogEvery { get; set; }

    [Option("autoencoder", HelpText = "Train a latent model (--preset latent-xs|latent-s|latent-m) on the latents of this export-autoencoder folder; the train split is encoded once and cached.")]
    public string? Autoencoder { get; set; }

    [Option("precision", HelpText = "fp32 | bf16: the arithmetic of the forward and backward passes; weights, optimiser, EMA and checkpoints stay fp32 (default: bf16 where the CPU has AMX, or AVX-512 BF16 on AMD, else fp32). May change on --resume: which is faster depends on the CPU.")]
    public string? Precision { get; set; }

    [Option("skip-unreadable", HelpText = "Leave out PNGs that cannot be decoded (counted in the log) instead of stopping.")]
    public bool SkipUnreadable { get; set; }

    /// <summary>The options that the --init-from model decides; giving one of them as well is a contradiction.</summary>
    public IEnumerable<string> ArchitectureOptionsGiven()
    {
        if (Preset is not null) yield return "--preset";
        if (Cond is not null) yield return "--cond";
        if (ImageSize is not null) yield return "--image-size";
        if (BetaSchedule is not null) yield return "--beta-schedule";
        if (Timesteps is not null) yield return "--timesteps";
        if (BetaStart is not null) yield return "--beta-start";
        if (BetaEnd is not null) yield return "--beta-end";
        if (Prediction is not null) yield return "--prediction";
        if (ZeroTerminalSnr) yield return "--zero-terminal-snr";
    }

    /// <summary>Defaults, then the JSON file (checked key by key, <see cref="TrainConfigFile"/>), then the options given on the command line.</summary>
    public TrainConfig ToConfig() =>
        Overlay(ConfigFile is null ? new() { Data = "", Preset = Model.Presets.Small } : TrainConfigFile.Read(ConfigFile));

    /// <summary>
    /// A resumed run keeps the settings in its checkpoint. Rerunning the same command with --resume is fine; an option
    /// that would change a setting (other than --steps and --precision) would be ignored, so it is refused, naming the setting.
    /// </summary>
    public void CheckAgainstCheckpoint()
    {
        string checkpoint = Path.Combine(Out, Checkpoint.FileName);
        if (!File.Exists(checkpoint)) return; // the trainer says there is nothing to resume
        var saved = Checkpoint.ReadState(checkpoint).Train;
        // The same command again, --config included, must resume: the file's keys and the options both apply to the saved run.
        // --steps, --precision and --micro-batch may change on resume (TrainRunOptions says why); nothing else may.
        var asked = Overlay(ConfigFile is null ? saved : TrainConfigFile.OverlayKeys(ConfigFile, saved)) with { Steps = saved.Steps, Precision = saved.Precision, MicroBatch = saved.MicroBatch };
        foreach (var property in typeof(TrainConfig).GetProperties())
        {
            object? was = property.GetValue(saved), now = property.GetValue(asked);
            if (SameSetting(property.Name, was, now, saved)) continue;
            if (!Equals(was, now))
                throw new ArgumentException($"{checkpoint}: the run was trained with {property.Name} = {was ?? "null"}; the options ask for {now ?? "null"}, which --resume cannot change (start a new run, or --init-from its export)");
        }
    }

    /// <summary>
    /// Paths are the same setting when they resolve to the same place (an absolute path for the relative one, a link);
    /// an image size left to the preset is the preset's. An autoencoder folder may move: the trainer then holds the
    /// encoder inside to the run's SHA-256.
    /// </summary>
    private static bool SameSetting(string name, object? was, object? now, TrainConfig saved)
    {
        if (name == nameof(TrainConfig.Autoencoder) && was is string && now is string) return true;
        if (was is string a && now is string b && name is nameof(TrainConfig.Data) or nameof(TrainConfig.InitFrom) or nameof(TrainConfig.Autoencoder))
            return KneeOnnx.Validation.RealPath.Same(KneeOnnx.Validation.RealPath.Of(a), KneeOnnx.Validation.RealPath.Of(b));
        if (name == nameof(TrainConfig.ImageSize) && !Model.Presets.IsLatent(saved.Preset))
        {
            int preset = Model.Presets.Get(saved.Preset).ImageSize;
            return ((int?)was ?? preset) == ((int?)now ?? preset);
        }
        return false;
    }

    private TrainConfig Overlay(TrainConfig baseline) =>
        baseline with
        {
            Data = Data ?? baseline.Data ?? "",
            Preset = Preset ?? baseline.Preset ?? Model.Presets.Small,
            ImageSize = ImageSize ?? baseline.ImageSize,
            Sides = Sides || baseline.Sides,
            SideLearningRateFactor = SideLrFactor ?? baseline.SideLearningRateFactor,
            Conditioning = Cond ?? baseline.Conditioning,
            Steps = Steps ?? baseline.Steps,
            BatchSize = Batch ?? baseline.BatchSize,
            MicroBatch = MicroBatch ?? baseline.MicroBatch,
            Seed = Seed ?? baseline.Seed,
            LearningRate = LearningRate ?? baseline.LearningRate,
            WarmupSteps = Warmup ?? baseline.WarmupSteps,
            FinalLearningRateFraction = FinalLrFraction ?? baseline.FinalLearningRateFraction,
            WeightDecay = WeightDecay ?? baseline.WeightDecay,
            GradientClip = GradClip ?? baseline.GradientClip,
            BetaStart = BetaStart ?? baseline.BetaStart,
            BetaEnd = BetaEnd ?? baseline.BetaEnd,
            EmaDecay = Ema ?? baseline.EmaDecay,
            LabelDropout = (Cond ?? baseline.Conditioning) == Model.Conditioning.None ? 0 : LabelDropout ?? baseline.LabelDropout,
            Balance = Balance ?? baseline.Balance,
            HorizontalFlip = !NoFlip && baseline.HorizontalFlip,
            MinSnrGamma = MinSnrGamma ?? baseline.MinSnrGamma,
            PredictionType = Prediction ?? baseline.PredictionType,
            ZeroTerminalSnr = ZeroTerminalSnr || baseline.ZeroTerminalSnr,
            BetaSchedule = BetaSchedule ?? baseline.BetaSchedule,
            TrainTimesteps = Timesteps ?? baseline.TrainTimesteps,
            CheckpointEvery = CheckpointEvery ?? baseline.CheckpointEvery,
            SkipUnreadable = SkipUnreadable || baseline.SkipUnreadable,
            InitFrom = InitFrom ?? baseline.InitFrom,
            DistillGuidance = DistillGuidance ?? baseline.DistillGuidance,
            Teacher = Teacher ?? baseline.Teacher,
            UpBlocks = UpBlocks ?? baseline.UpBlocks,
            Precision = Precision ?? baseline.Precision,
            Autoencoder = Autoencoder ?? baseline.Autoencoder,
        };
}

internal static class TrainCommand
{
    public const int InterruptedExitCode = 130;

    public static int Run(TrainOptions o, TextWriter output)
    {
        var config = o.ToConfig();
        if (!o.Resume && string.IsNullOrEmpty(config.Data))
            throw new ArgumentException("--data is required (the dataset root holding train/<grade>/*.png)");
        if (o.Resume) o.CheckAgainstCheckpoint();
        if (o.InitFrom is not null && o.Resume)
            throw new ArgumentException("--init-from starts a new run; --resume continues one: give one of them");
        if (o.InitFrom is not null && o.ArchitectureOptionsGiven().FirstOrDefault() is { } conflicting)
            throw new ArgumentException($"{conflicting} cannot be combined with --init-from {o.InitFrom}: the architecture and schedule come from that file");
        if (o.StopAtStep is long stopAt && stopAt < 1)
            throw new ArgumentException($"--stop-at-step must be at least 1, got {stopAt}");
        if (o.MaxMinutes is double minutes && !(minutes > 0 && double.IsFinite(minutes)))
            throw new ArgumentException($"--max-minutes must be a positive number of minutes, got {minutes}");
        if (o.MicroBatch is int micro && micro < 1)
            throw new ArgumentException($"--micro-batch must be at least 1 image, got {micro}");
        if (o.LogEvery < 1) throw new ArgumentException($"--log-every must be at least 1, got {o.LogEvery}");
        ThreadCount.Validate(o.Threads);
        TorchDevice.ValidateChoice(o.Device);
        // A resumed run's settings come from its checkpoint, and an --init-from run's architecture from its model: the trainer checks those once merged.
        if (!o.Resume && o.InitFrom is null) config.Validate();
        GuardOutputs(o, config);

        using var stop = new StopSignals(output);

        var result = Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = o.Out,
            Resume = o.Resume,
            Device = o.Device,
            Threads = o.Threads,
            Output = output,
            Interactive = !Console.IsOutputRedirected,
            LogEvery = o.LogEvery,
            MaxMinutes = o.MaxMinutes, StopAtStep = o.StopAtStep,
            StepsOverride = o.Resume ? o.Steps : null,
            AutoencoderOverride = o.Resume ? o.Autoencoder : null,
            PrecisionOverride = o.Resume ? o.Precision : null,
            LatentCache = o.LatentCache ?? Autoencoder.LatentTrainingSet.DefaultCacheDirectory(),
            Cancellation = stop.Token,
            MicroBatchOverride = o.Resume ? o.MicroBatch : null,
        });
        return stop.Requested && !result.Completed ? InterruptedExitCode : 0;
    }

    /// <summary>The run folder must not lie in the images it trains on, and none of the files the run writes may be one of its inputs.</summary>
    private static void GuardOutputs(TrainOptions o, TrainConfig config)
    {
        string? data = o.Resume || string.IsNullOrEmpty(config.Data) ? null : config.Data;
        OutputGuard.Folder(o.Out, "--out", [],
            [new("--data", data is null ? null : Path.Combine(data, "train")), new("--data", data is null ? null : Path.Combine(data, "val"))]);
        OutputGuard.Input[] inputs = [new("--config", o.ConfigFile), new("--init-from", config.InitFrom), new("--teacher", config.Teacher)];
        foreach (var written in new[] { Checkpoint.FileName, Trainer.ConfigFileName, LossLog.FileName, LossCurvePlot.FileName })
            OutputGuard.NotAnInput(Path.Combine(o.Out, written), "--out", inputs);
    }
}
