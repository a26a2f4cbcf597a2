using CommandLine;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Runs;
using KneeOnnx.Validation;

namespace KneeOnnx.Training.Cli;

[Verb("train-autoencoder", HelpText = "Train the knee autoencoder of the latent path on random crops of DIR/train (L1 + ResNet-18 perceptual + KL, then a patch critic); checkpoint, config, loss.csv, loss.png go to RUNDIR.")]
public sealed class TrainAutoencoderOptions : TorchOptions
{
    [Option("data", HelpText = "Dataset root holding train/<grade 0..4>/*.png. Required unless --resume.")]
    public string? Data { get; set; }

    [Option("out", Required = true, HelpText = "Run folder (RUNDIR) for autoencoder.ckpt, config.json, loss.csv, loss.png.")]
    public string Out { get; set; } = "";

    [Option("preset", HelpText = "kl-f4 (default: 128² → 4×32² latents) | kl-f8 (128² → 4×16²) | kl-tiny (32², tests).")]
    public string? Preset { get; set; }

    [Option("image-size", HelpText = "Side of the whole images it codes, instead of the preset's (a multiple of its factor).")]
    public int? ImageSize { get; set; }

    [Option("latent-channels", HelpText = "Latent channels c (default 4).")]
    public int? LatentChannels { get; set; }

    [Option("crop", HelpText = "Side of the random training crops (default 64).")]
    public int? Crop { get; set; }

    [Option("steps", HelpText = "Total optimiser steps (default 20000). With --resume, a new total.")]
    public int? Steps { get; set; }

    [Option("batch", HelpText = "Crops per step (default 8).")]
    public int? Batch { get; set; }

    [Option("lr", HelpText = "Peak Adam learning rate of both networks (default 2e-4).")]
    public double? LearningRate { get; set; }

    [Option("warmup", HelpText = "Linear warm-up steps before the cosine decay (default 200).")]
    public int? Warmup { get; set; }

    [Option("perceptual-weight", HelpText = "Weight of the ResNet-18 perceptual distance beside L1 (default 1; 0 = L1 only).")]
    public double? PerceptualWeight { get; set; }

    [Option("kl-weight", HelpText = "Weight of the KL term (default 1e-6).")]
    public double? KlWeight { get; set; }

    [Option("adversarial-start", HelpText = "Step the patch critic starts at (default 5000; beyond --steps = never).")]
    public int? AdversarialStart { get; set; }

    [Option("adversarial-weight", HelpText = "Factor on the adaptive adversarial weight (default 0.5).")]
    public double? AdversarialWeight { get; set; }

    [Option("ema-decay", HelpText = "Keep an exponential moving average of the trained weights with this decay (e.g. 0.999) and export it instead of the raw weights (default 0: none).")]
    public double? EmaDecay { get; set; }

    [Option("precision", HelpText = "fp32 | bf16 (default: bf16 where the CPU has AMX, or AVX-512 BF16 on AMD, else fp32).")]
    public string? Precision { get; set; }

    [Option("seed", HelpText = "Seed for initialisation, crops and latent noise (default 1).")]
    public long? Seed { get; set; }

    [Option("checkpoint-every", HelpText = "Steps between checkpoints (default 250).")]
    public int? CheckpointEvery { get; set; }

    [Option("init-from", HelpText = "Start from the weights of an export-autoencoder FOLDER (e.g. a committed one when the run's checkpoint is gone); its architecture is used.")]
    public string? InitFrom { get; set; }

    [Option("freeze-encoder", HelpText = "With --init-from: train the decoder (and critic) only; the encoder, and so the latents any U-Net was trained on, stay as they are.")]
    public bool FreezeEncoder { get; set; }

    [Option("decoder-widths", HelpText = "With --freeze-encoder: train a new decoder of these widths per level (comma-separated, one per encoder level, e.g. 32,64,128) from scratch, a lighter one for faster generation.")]
    public string? DecoderWidths { get; set; }

    [Option("decoder-blocks", HelpText = "With --freeze-encoder: ResNet blocks per level of the new decoder (default: the folder's).")]
    public int? DecoderBlocks { get; set; }

    [Option("resume", HelpText = "Continue the run in --out from its checkpoint, exactly where it stopped.")]
    public bool Resume { get; set; }

    [Option("max-minutes", HelpText = "Stop cleanly with a checkpoint this many minutes after the command started, loading and encoding included (resume later).")]
    public double? MaxMinutes { get; set; }

    [Option("stop-at-step", HelpText = "Stop cleanly with a checkpoint when the run reaches this step (the learning-rate schedule still follows --steps): equal-step pilots, or a stop on a step boundary.")]
    public long? StopAtStep { get; set; }

    [Option("device", Default = "auto", HelpText = "auto | cpu | cuda.")]
    public string Device { get; set; } = "auto";

    [Option("threads", Default = 0, HelpText = "CPU threads for TorchSharp (0 = all cores; at most 4 × the logical cores).")]
    public int Threads { get; set; }

    [Option("log-every", Default = 50, HelpText = "Steps between progress lines when output is not a terminal.")]
    public int LogEvery { get; set; }

    [Option("skip-unreadable", HelpText = "Leave out PNGs that cannot be decoded (counted in the log) instead of stopping.")]
    public bool SkipUnreadable { get; set; }

    public AutoencoderTrainConfig ToConfig()
    {
        var d = new AutoencoderTrainConfig { Data = "" };
        return d with
        {
            Data = Data ?? "", Preset = Preset ?? d.Preset, ImageSize = ImageSize, LatentChannels = LatentChannels, Crop = Crop ?? d.Crop,
            Steps = Steps ?? d.Steps, BatchSize = Batch ?? d.BatchSize, LearningRate = LearningRate ?? d.LearningRate, WarmupSteps = Warmup ?? d.WarmupSteps,
            PerceptualWeight = PerceptualWeight ?? d.PerceptualWeight, KlWeight = KlWeight ?? d.KlWeight, AdversarialStart = AdversarialStart ?? d.AdversarialStart,
            AdversarialWeight = AdversarialWeight ?? d.AdversarialWeight, EmaDecay = EmaDecay ?? d.EmaDecay, Precision = Precision, Seed = Seed ?? d.Seed,
            CheckpointEvery = CheckpointEvery ?? d.CheckpointEvery, SkipUnreadable = SkipUnreadable, InitFrom = InitFrom, FreezeEncoder = FreezeEncoder,
            DecoderWidths = DecoderWidths is null ? null : ParseWidths(DecoderWidths), DecoderBlocks = DecoderBlocks,
        };
    }

    private static int[] ParseWidths(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out widths[i]) || widths[i] < 1)
                throw new ArgumentException($"--decoder-widths '{text}' is not a comma-separated list of positive widths");
        return widths;
    }
}

internal static class TrainAutoencoderCommand
{
    public static int Run(TrainAutoencoderOptions o, TextWriter output)
    {
        var config = o.ToConfig();
        if (!o.Resume && string.IsNullOrEmpty(config.Data))
            throw new ArgumentException("--data is required (the dataset root holding train/<grade>/*.png)");
        if (o.StopAtStep is long stopAt && stopAt < 1)
            throw new ArgumentException($"--stop-at-step must be at least 1, got {stopAt}");
        if (o.MaxMinutes is double minutes && !(minutes > 0 && double.IsFinite(minutes)))
            throw new ArgumentException($"--max-minutes must be a positive number of minutes, got {minutes}");
        if (o.InitFrom is not null && o.Resume) throw new ArgumentException("--init-from starts a new run; --resume continues one: give one of them");
        if (o.LogEvery < 1) throw new ArgumentException($"--log-every must be at least 1, got {o.LogEvery}");
        ThreadCount.Validate(o.Threads);
        if (!o.Resume) config.Validate();
        if (!o.Resume)
            OutputGuard.Folder(o.Out, "--out", [],
                [new("--data", Path.Combine(config.Data, "train")), new("--data", Path.Combine(config.Data, "val"))]);

        using var stop = new StopSignals(output);
        var result = AutoencoderTrainer.Run(config, new TrainRunOptions
        {
            RunDirectory = o.Out, Resume = o.Resume, Device = o.Device, Threads = o.Threads, Output = output,
            Interactive = !Console.IsOutputRedirected, LogEvery = o.LogEvery, MaxMinutes = o.MaxMinutes, StopAtStep = o.StopAtStep,
            StepsOverride = o.Resume ? o.Steps : null, Cancellation = stop.Token,
        });
        return stop.Requested && !result.Completed ? TrainCommand.InterruptedExitCode : 0;
    }
}
