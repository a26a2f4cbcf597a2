using System.Text.Json;
using CommandLine;
using KneeOnnx.Training.Training;

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

    [Option("preset", HelpText = "tiny (32²) | small (64², default) | paper (128², the report's U-Net).")]
    public string? Preset { get; set; }

    [Option("cond", HelpText = "Grade conditioning: add (default; embedding added to the timestep embedding) | concat (embedding channels appended to the input) | none.")]
    public string? Cond { get; set; }

    [Option("steps", HelpText = "Total optimiser steps (default 10000). With --resume, a new total.")]
    public int? Steps { get; set; }

    [Option("batch", HelpText = "Images per step (default 16).")]
    public int? Batch { get; set; }

    [Option("seed", HelpText = "Seed for initialisation, batches and noise (default 1).")]
    public long? Seed { get; set; }

    [Option("device", Default = "auto", HelpText = "auto | cpu | cuda.")]
    public string Device { get; set; } = "auto";

    [Option("threads", Default = 0, HelpText = "CPU threads for TorchSharp (0 = all cores).")]
    public int Threads { get; set; }

    [Option("resume", HelpText = "Continue the run in --out from its checkpoint, exactly where it stopped.")]
    public bool Resume { get; set; }

    [Option("init-from", HelpText = "Start from the weights of an exported FILE.onnx (fine-tune on your data, or continue a shipped model); its architecture and noise schedule are used, so --preset/--cond/--beta-schedule/--timesteps cannot be given.")]
    public string? InitFrom { get; set; }

    [Option("lr", HelpText = "Peak AdamW learning rate (default 1e-4).")]
    public double? LearningRate { get; set; }

    [Option("warmup", HelpText = "Linear warm-up steps before the cosine decay (default 500).")]
    public int? Warmup { get; set; }

    [Option("ema", HelpText = "Largest EMA decay; the decay warms up as (1+step)/(10+step) (default 0.999).")]
    public double? Ema { get; set; }

    [Option("label-dropout", HelpText = "Probability of training on the null grade, enabling classifier-free guidance; 0 disables (default 0.1).")]
    public double? LabelDropout { get; set; }

    [Option("balance", HelpText = "Grade sampling: sqrt (default) | balanced | none.")]
    public string? Balance { get; set; }

    [Option("no-flip", HelpText = "Disable random horizontal flips.")]
    public bool NoFlip { get; set; }

    [Option("min-snr-gamma", HelpText = "Min-SNR-γ loss weighting (e.g. 5); 0 = plain ε-MSE (default 0).")]
    public double? MinSnrGamma { get; set; }

    [Option("beta-schedule", HelpText = "linear (default; 1e-4..0.02) | cosine.")]
    public string? BetaSchedule { get; set; }

    [Option("timesteps", HelpText = "Diffusion steps T (default 1000).")]
    public int? Timesteps { get; set; }

    [Option("checkpoint-every", HelpText = "Steps between checkpoints (default 250).")]
    public int? CheckpointEvery { get; set; }

    [Option("max-minutes", HelpText = "Stop cleanly with a checkpoint after this many minutes (resume later).")]
    public double? MaxMinutes { get; set; }

    [Option("log-every", Default = 50, HelpText = "Steps between progress lines when output is not a terminal.")]
    public int LogEvery { get; set; }

    [Option("skip-unreadable", HelpText = "Leave out PNGs that cannot be decoded (counted in the log) instead of stopping.")]
    public bool SkipUnreadable { get; set; }

    /// <summary>The options that the --init-from model decides; giving one of them as well is a contradiction.</summary>
    public IEnumerable<string> ArchitectureOptionsGiven()
    {
        if (Preset is not null) yield return "--preset";
        if (Cond is not null) yield return "--cond";
        if (BetaSchedule is not null) yield return "--beta-schedule";
        if (Timesteps is not null) yield return "--timesteps";
    }

    /// <summary>Defaults, then the JSON file, then the options given on the command line.</summary>
    public TrainConfig ToConfig()
    {
        TrainConfig baseline = new() { Data = "", Preset = Model.Presets.Small };
        if (ConfigFile is not null)
        {
            if (!File.Exists(ConfigFile)) throw new ArgumentException($"{ConfigFile}: --config file not found");
            try
            {
                baseline = JsonSerializer.Deserialize<TrainConfig>(File.ReadAllText(ConfigFile), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
                    ?? throw new ArgumentException($"{ConfigFile}: empty --config file");
            }
            catch (JsonException e)
            {
                throw new ArgumentException($"{ConfigFile}: not a valid training config ({e.Message})", e);
            }
        }
        return baseline with
        {
            Data = Data ?? baseline.Data,
            Preset = Preset ?? baseline.Preset,
            Conditioning = Cond ?? baseline.Conditioning,
            Steps = Steps ?? baseline.Steps,
            BatchSize = Batch ?? baseline.BatchSize,
            Seed = Seed ?? baseline.Seed,
            LearningRate = LearningRate ?? baseline.LearningRate,
            WarmupSteps = Warmup ?? baseline.WarmupSteps,
            EmaDecay = Ema ?? baseline.EmaDecay,
            LabelDropout = (Cond ?? baseline.Conditioning) == Model.Conditioning.None ? 0 : LabelDropout ?? baseline.LabelDropout,
            Balance = Balance ?? baseline.Balance,
            HorizontalFlip = !NoFlip && baseline.HorizontalFlip,
            MinSnrGamma = MinSnrGamma ?? baseline.MinSnrGamma,
            BetaSchedule = BetaSchedule ?? baseline.BetaSchedule,
            TrainTimesteps = Timesteps ?? baseline.TrainTimesteps,
            CheckpointEvery = CheckpointEvery ?? baseline.CheckpointEvery,
            SkipUnreadable = SkipUnreadable || baseline.SkipUnreadable,
            InitFrom = InitFrom ?? baseline.InitFrom,
        };
    }
}
