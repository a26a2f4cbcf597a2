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

    [Option("backbone", Default = ClassifierBackbone.SmallCnn, HelpText = "small-cnn | resnet18-imagenet (the classifier users train; 224² by default).")]
    public string Backbone { get; set; } = ClassifierBackbone.SmallCnn;

    [Option("size", HelpText = "Classifier input side in pixels (default: the backbone's, 64 or 224).")]
    public int? Size { get; set; }

    [Option("seeds", Default = 1, HelpText = "Seeds (from --seed on) each arm is trained with; 2 or more add mean ± sd, the paired difference with its 95% interval and the classification accuracy score (augment-seeds.json/md).")]
    public int Seeds { get; set; }

    [Option("epochs", Default = 10, HelpText = "Epochs of the real-only run; the augmented run gets the same number of steps.")]
    public int Epochs { get; set; }

    [Option("batch", Default = 32, HelpText = "Images per step.")]
    public int Batch { get; set; }

    [Option("seed", Default = 1L, HelpText = "Seed shared by both runs.")]
    public long Seed { get; set; }

    [Option("threads", Default = 0, HelpText = "CPU threads (0 = all cores; at most 4 × the logical cores).")]
    public int Threads { get; set; }

    [Option("precision", HelpText = "fp32 | bf16 for every classifier of the verdict (default: bf16 where the CPU has AMX, or AVX-512 BF16 on AMD, else fp32; which is faster depends on the CPU: bench --training-only --training resnet18-imagenet tells).")]
    public string? Precision { get; set; }

    [Option("mirror-averaging", HelpText = "Every arm's classifier reads each val image and its left-right mirror and averages the two (as train-classifier --mirror-averaging).")]
    public bool MirrorAveraging { get; set; }

    [Option("baseline", HelpText = "An earlier augment-benefit --out with the same settings: the finished real-only classifiers of the seeds it holds are reused instead of trained again (checked against this run's settings and images), so each further generated set costs one arm per seed; seeds it lacks train their real-only arm here.")]
    public string? Baseline { get; set; }

    [Option("real-fraction", HelpText = "Keep this share of every grade's real train images (0 < F ≤ 1; the same images for every seed and run): the verdict for a user whose own data set is that much smaller. Default: all.")]
    public double? RealFraction { get; set; }

    [Option("max-minutes", HelpText = "Stop, every classifier checkpointed in --out, before an epoch that would end after this many minutes; the same command again continues where it stopped.")]
    public double? MaxMinutes { get; set; }
}

internal static class AugmentBenefitCommand
{
    public static int Run(AugmentBenefitOptions o, TextWriter output)
    {
        // Every classifier keeps a checkpoint in --out: the same command again continues a stopped verdict (hours at 224²).
        var run = new ClassifierRunOptions
        {
            StopBy = KneeOnnx.Validation.TimeLimit.StopBy(o.MaxMinutes, DateTime.UtcNow),
        };
        var defaults = ClassifierConfig.ForBackbone(o.Backbone);
        var config = defaults with { ImageSize = o.Size ?? defaults.ImageSize, Epochs = o.Epochs, BatchSize = o.Batch, Seed = o.Seed, Threads = o.Threads, Precision = o.Precision, MirrorAveraging = o.MirrorAveraging };
        config.Validate();
        if (o.Seeds is < 1 or > 100) throw new ArgumentException($"--seeds must be in 1..100, got {o.Seeds}");
        if (o.PerGrade is <= 0) throw new ArgumentException($"--per-grade must be at least 1, got {o.PerGrade}");
        if (o.RealFraction is double f && !(f > 0 && f <= 1)) throw new ArgumentException($"--real-fraction must be in (0, 1], got {f}");
        KneeOnnx.Validation.OutputGuard.Folder(o.Out, "--out", [],
            [new("--data", Path.Combine(o.Data, "train")), new("--data", Path.Combine(o.Data, "val")), new("--generated", o.Generated), new("--baseline", o.Baseline)]);
        if (o.Baseline is not null && !Directory.Exists(o.Baseline)) throw new ArgumentException($"{o.Baseline}: --baseline folder not found");
        // Generated images may be for some grades only (generate --grades 3,4): those grades are added, the others not.
        var synthetic = ImageSet.Load(o.Generated, config.ImageSize, everyGrade: false);
        var train = KneeDataset.Load(o.Data, "train", config.ImageSize);
        if (o.RealFraction is double fraction)
        {
            train = train.Subset(StratifiedSubset.Indexes(train.Grades, fraction));
            output.WriteLine($"real train: {train.Count} images kept ({fraction:0.###} of each grade: {string.Join(" / ", train.CountPerGrade())})");
        }
        var val = KneeDataset.Load(o.Data, "val", config.ImageSize);
        bool finished = o.Seeds == 1
            ? AugmentationBenefit.Run(config, train, val, synthetic, o.PerGrade, o.Out, output, run, o.Baseline) is not null
            : SeededAugmentationBenefit.Run(config, o.Seeds, train, val, synthetic, o.PerGrade, o.Out, output, run, o.Baseline) is not null;
        if (!finished) output.WriteLine($"stopped before the verdict was complete; every classifier so far is checkpointed in {o.Out}: the same command again continues");
        return 0;
    }
}
