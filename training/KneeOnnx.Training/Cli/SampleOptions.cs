using CommandLine;

namespace KneeOnnx.Training.Cli;

[Verb("sample", HelpText = "Sample images with the TorchSharp DDPM sampler (all T steps) from a checkpoint into DIR/<grade>/*.png.")]
public sealed class SampleOptions : TorchOptions
{
    [Option("checkpoint", Required = true, HelpText = "RUNDIR or a .ckpt file.")]
    public string Checkpoint { get; set; } = "";

    [Option("grade", Required = true, HelpText = "KL grade 0..4 (comma-separated for several, e.g. 0,2,4).")]
    public string Grade { get; set; } = "";

    [Option("count", Default = 8, HelpText = "Images per grade.")]
    public int Count { get; set; }

    [Option("out", Required = true, HelpText = "Output folder; images go to OUT/<grade>/.")]
    public string Out { get; set; } = "";

    [Option("seed", Default = 0L, HelpText = "Seed; image i of grade g always gets the same noise.")]
    public long Seed { get; set; }

    [Option("batch", Default = 16, HelpText = "Images denoised together.")]
    public int Batch { get; set; }

    [Option("raw", HelpText = "Use the raw weights instead of the EMA weights.")]
    public bool Raw { get; set; }

    [Option("device", Default = "auto", HelpText = "auto | cpu | cuda.")]
    public string Device { get; set; } = "auto";

    [Option("threads", Default = 0, HelpText = "CPU threads (0 = all cores).")]
    public int Threads { get; set; }
}
