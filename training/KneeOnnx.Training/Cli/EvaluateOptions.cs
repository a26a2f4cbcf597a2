using CommandLine;

namespace KneeOnnx.Training.Cli;

[Verb("evaluate", HelpText = "Compare generated images with real ones: FID-RN18 per grade with its real-vs-real floor, a memorisation audit against the training set, with --classifier grade fidelity, Spearman ρ and KL-IS, with --augment the augmentation benefit; writes OUT/report.json and report.md.")]
public sealed class EvaluateOptions
{
    [Option("generated", Required = true, HelpText = "Folder of generated images, <grade>/*.png.")]
    public string Generated { get; set; } = "";

    [Option("real", Required = true, HelpText = "Folder of real images to compare with, <grade>/*.png (e.g. the val split).")]
    public string Real { get; set; } = "";

    [Option("train", Required = true, HelpText = "The training images, <grade>/*.png (floor sample and memorisation audit).")]
    public string Train { get; set; } = "";

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

    public Evaluation.EvaluationRequest ToRequest() =>
        new(Generated, Real, Train, Out, Limit, Seed, Classifier, Augment ? new Evaluation.AugmentRequest(AugmentEpochs, AugmentPerGrade) : null);
}
