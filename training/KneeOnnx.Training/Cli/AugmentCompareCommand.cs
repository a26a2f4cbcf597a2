using CommandLine;
using KneeOnnx.Training.Classifier;

namespace KneeOnnx.Training.Cli;

[Verb("augment-compare", HelpText = "Which of two generated sets helps the classifier more: pairs two finished augment-benefit verdicts by seed (the second run with --baseline pointing at the first) and writes the paired difference of their augmented arms to OUT/augment-compare.json and .md. Trains nothing.")]
public sealed class AugmentCompareOptions
{
    [Option("first", Required = true, HelpText = "An augment-benefit --out with --seeds 2 or more.")]
    public string First { get; set; } = "";

    [Option("second", Required = true, HelpText = "Another, run against the same real-only classifiers (augment-benefit --baseline FIRST).")]
    public string Second { get; set; } = "";

    [Option("out", Required = true, HelpText = "Report folder.")]
    public string Out { get; set; } = "";
}

internal static class AugmentCompareCommand
{
    public static int Run(AugmentCompareOptions o, TextWriter output)
    {
        KneeOnnx.Validation.OutputGuard.Folder(o.Out, "--out", [], [new("--first", o.First), new("--second", o.Second)]);
        AugmentationComparison.Run(o.First, o.Second, o.Out, output);
        return 0;
    }
}
