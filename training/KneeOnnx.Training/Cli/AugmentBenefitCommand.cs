using CommandLine;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Evaluation;

namespace KneeOnnx.Training.Cli;

[Verb("augment-benefit", HelpText = "Train the reference KL classifier twice with the same budget and seed (real train; real train + generated images) and compare both on val; writes OUT/augment.json and augment.md.")]
public sealed class AugmentBenefitOptions : TorchOptions
{
    [Option("data", Required = true, HelpText = "Dataset root holding train/ and val/ (<grade>/*.png each).")]
    public string Data { get; set; } = "";

    [Option("generated", Required = true, HelpText = "Folder of generated images, <grade>/*.png (as kneeonnx-gen generate writes it).")]
    public string Generated { get; set; } = "";

    [Option("out", Required = true, HelpText = "Report folder.")]
    public string Out { get; set; } = "";

    [Option("per-grade", HelpText = "Add at most N generated images per grade (default: all of them).")]
    public int? PerGrade { get; set; }

    [Option("size", Default = 64, HelpText = "Classifier input side in pixels.")]
    public int Size { get; set; }

    [Option("epochs", Default = 10, HelpText = "Epochs of the real-only run; the augmented run gets the same number of steps.")]
    public int Epochs { get; set; }

    [Option("batch", Default = 32, HelpText = "Images per step.")]
    public int Batch { get; set; }

    [Option("seed", Default = 1L, HelpText = "Seed shared by both runs.")]
    public long Seed { get; set; }

    [Option("threads", Default = 0, HelpText = "CPU threads (0 = all cores; at most 4 × the logical cores).")]
    public int Threads { get; set; }
}

internal static class AugmentBenefitCommand
{
    public static int Run(AugmentBenefitOptions o, TextWriter output)
    {
        var config = new ClassifierConfig { ImageSize = o.Size, Epochs = o.Epochs, BatchSize = o.Batch, Seed = o.Seed, Threads = o.Threads };
        config.Validate();
        if (o.PerGrade is <= 0) throw new ArgumentException($"--per-grade must be at least 1, got {o.PerGrade}");
        KneeOnnx.Validation.OutputGuard.Folder(o.Out, "--out", [],
            [new("--data", Path.Combine(o.Data, "train")), new("--data", Path.Combine(o.Data, "val")), new("--generated", o.Generated)]);
        var synthetic = ImageSet.Load(o.Generated, config.ImageSize);
        var train = KneeDataset.Load(o.Data, "train", config.ImageSize);
        var val = KneeDataset.Load(o.Data, "val", config.ImageSize);
        AugmentationBenefit.Run(config, train, val, synthetic, o.PerGrade, o.Out, output);
        return 0;
    }
}
