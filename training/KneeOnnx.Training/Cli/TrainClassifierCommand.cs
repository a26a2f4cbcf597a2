using CommandLine;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Data;

namespace KneeOnnx.Training.Cli;

[Verb("train-classifier", HelpText = "Train the reference KL-grade classifier (or, with --target side, the knee-side classifier) on DIR/train, select it on DIR/val (best quadratic-weighted κ; side: best accuracy), save it to FILE.")]
public sealed class TrainClassifierOptions : TorchOptions
{
    [Option("data", Required = true, HelpText = "Dataset root holding train/ and val/ (<grade>/*.png each).")]
    public string Data { get; set; } = "";

    [Option("out", Required = true, HelpText = "Classifier file to write; a finished run writes its card beside it (FILE with .md).")]
    public string Out { get; set; } = "";

    [Option("backbone", Default = ClassifierBackbone.SmallCnn, HelpText = "small-cnn (the project's CNN from scratch) | resnet18-imagenet (ImageNet ResNet-18 fine-tuned, flips + shifts + brightness/contrast).")]
    public string Backbone { get; set; } = ClassifierBackbone.SmallCnn;

    [Option("size", HelpText = "Input side in pixels (default 64; 224, the data's own, for resnet18-imagenet).")]
    public int? Size { get; set; }

    [Option("epochs", Default = 10, HelpText = "Passes over the train split.")]
    public int Epochs { get; set; }

    [Option("batch", Default = 32, HelpText = "Images per step.")]
    public int Batch { get; set; }

    [Option("lr", HelpText = "Peak AdamW learning rate (default 2e-3; 3e-4 for resnet18-imagenet, which starts trained).")]
    public double? LearningRate { get; set; }

    [Option("seed", Default = 1L, HelpText = "Seed for initialisation and batches.")]
    public long Seed { get; set; }

    [Option("target", Default = ClassifierTarget.Grade, HelpText = "grade (KL 0-4) | side (L/R from the file names, for evaluate --side-classifier).")]
    public string Target { get; set; } = ClassifierTarget.Grade;

    [Option("threads", Default = 0, HelpText = "CPU threads (0 = all cores; at most 4 × the logical cores).")]
    public int Threads { get; set; }

    [Option("precision", HelpText = "fp32 | bf16 (default: bf16 where the CPU has AMX, or AVX-512 BF16 on AMD, else fp32); weights and the saved file stay fp32.")]
    public string? Precision { get; set; }

    [Option("weights", HelpText = "How the kept classifier is stored: float32 | float16 (half the file; its val figures measured with the rounded weights). Default: float16 for resnet18-imagenet, float32 for small-cnn.")]
    public string? Weights { get; set; }

    [Option("mirror-averaging", HelpText = "Grade classifiers: every prediction of the file (its val scoring, evaluate --classifier) averages the image and its left-right mirror; recorded in the file.")]
    public bool MirrorAveraging { get; set; }

    [Option("checkpoint", HelpText = "Keep the run's state in this file after every epoch (weights, optimiser, best epoch so far) so --resume can continue it (default with --max-minutes or --resume: --out with .ckpt).")]
    public string? Checkpoint { get; set; }

    [Option("resume", HelpText = "Continue the run in --checkpoint (the same settings and images; a finished run just reports).")]
    public bool Resume { get; set; }

    [Option("max-minutes", HelpText = "Stop, with the checkpoint written, before an epoch that would end after this many minutes; the same command with --resume continues.")]
    public double? MaxMinutes { get; set; }
}

internal static class TrainClassifierCommand
{
    public static int Run(TrainClassifierOptions o, TextWriter output)
    {
        DateTime? stopBy = KneeOnnx.Validation.TimeLimit.StopBy(o.MaxMinutes, DateTime.UtcNow);
        var defaults = ClassifierConfig.ForBackbone(o.Backbone);
        var config = defaults with
        {
            ImageSize = o.Size ?? defaults.ImageSize, Epochs = o.Epochs, BatchSize = o.Batch, LearningRate = o.LearningRate ?? defaults.LearningRate,
            Seed = o.Seed, Threads = o.Threads, Target = o.Target, Precision = o.Precision, MirrorAveraging = o.MirrorAveraging,
            Weights = o.Weights ?? (o.Backbone == ClassifierBackbone.ResNet18ImageNet ? ClassifierWeights.Float16 : ClassifierWeights.Float32),
        };
        config.Validate();
        if (Directory.Exists(o.Out)) throw new ArgumentException($"{o.Out}: --out is a folder; give the classifier file name");
        KneeOnnx.Validation.OutputGuard.File(o.Out, "--out", [], KneeOnnx.Validation.FileKind.Classifier);
        // A classifier is replaced only by one of the same target: a side classifier written over the shipped grade
        // classifier would silently change what every evaluation's grade fidelity means.
        if (File.Exists(o.Out) && KneeOnnx.Validation.FileKinds.Sniff(o.Out) == KneeOnnx.Validation.FileKind.Classifier
            && ClassifierFile.ReadHeader(o.Out).Target is var existing && existing != config.Target)
            throw new ArgumentException($"{o.Out}: --out exists and is a {existing} classifier; --target {config.Target} would replace it with a {config.Target} one (choose another --out)");
        string? checkpoint = o.Checkpoint ?? (o.MaxMinutes is not null || o.Resume ? Path.ChangeExtension(o.Out, ".ckpt") : null);
        if (checkpoint is not null)
        {
            if (Validation.RealPath.Same(Validation.RealPath.Of(checkpoint), Validation.RealPath.Of(o.Out)))
                throw new ArgumentException($"{checkpoint}: --checkpoint is the --out file; give the run's state a file of its own");
            KneeOnnx.Validation.OutputGuard.File(checkpoint, "--checkpoint", [new("--out", o.Out)], KneeOnnx.Validation.FileKind.Checkpoint);
        }
        if (o.Resume && !File.Exists(checkpoint))
            throw new ArgumentException($"{checkpoint}: nothing to resume (no checkpoint); drop --resume to start a new run");
        var train = KneeDataset.Load(o.Data, "train", config.ImageSize);
        var val = KneeDataset.Load(o.Data, "val", config.ImageSize);
        output.WriteLine($"train {train.Count} ({string.Join(" ", train.CountPerGrade())}), val {val.Count} ({string.Join(" ", val.CountPerGrade())}) at {config.ImageSize}²; target {config.Target}; {config.Backbone}");
        var outcome = ClassifierTrainer.Run(config, train, val, o.Out, output, new ClassifierRunOptions { Checkpoint = checkpoint, Resume = o.Resume, StopBy = stopBy });
        if (!outcome.Completed)
        {
            output.WriteLine($"stopped after epoch {outcome.EpochsDone}/{config.Epochs}"
                + (outcome.Best is { } sofar ? $" (best so far: epoch {sofar.Epoch} in {o.Out})" : "") + "; the same command with --resume continues");
            return 0;
        }
        var best = outcome.Best!;
        ClassifierCard.Write(o.Out, best, config, Command(o, config));
        output.WriteLine($"kept epoch {best.Epoch}: val accuracy {best.ValAccuracy:F3}, quadratic κ {best.ValQuadraticKappa:F3}, MAE {best.ValMeanAbsoluteError:F3}, "
            + $"recall per {(config.Target == ClassifierTarget.Side ? "side" : "grade")} {string.Join(" ", best.ValRecall.Select(r => r.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))} → {o.Out}");
        return 0;
    }

    /// <summary>The command that makes this classifier again, every setting spelled out (for its card).</summary>
    private static string Command(TrainClassifierOptions o, ClassifierConfig c) => string.Join(" ", new[]
    {
        "kneeonnx-train train-classifier --data", o.Data, "--out", o.Out, "--backbone", c.Backbone, "--target", c.Target, "--size", Inv(c.ImageSize),
        "--epochs", Inv(c.Epochs), "--batch", Inv(c.BatchSize), "--lr", Inv(c.LearningRate), "--seed", Inv(c.Seed), "--weights", c.Weights,
    }.Concat(c.Precision is null ? [] : ["--precision", c.Precision]).Concat(c.MirrorAveraging ? ["--mirror-averaging"] : []));

    private static string Inv(IFormattable value) => value.ToString(null, System.Globalization.CultureInfo.InvariantCulture);
}
