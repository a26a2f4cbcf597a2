using CommandLine;

namespace KneeOnnx.Training.Cli;

[Verb("export", HelpText = "Export a checkpoint's U-Net (EMA weights by default) to one self-describing ONNX file, checked against TorchSharp before it is written.")]
public sealed class ExportOptions : TorchOptions
{
    [Option("checkpoint", Required = true, HelpText = "RUNDIR or a .ckpt file.")]
    public string Checkpoint { get; set; } = "";

    [Option("out", Required = true, HelpText = "The .onnx file to write; its model card goes beside it as .md.")]
    public string Out { get; set; } = "";

    [Option("raw", HelpText = "Export the raw weights instead of the EMA weights.")]
    public bool Raw { get; set; }

    [Option("preset", HelpText = "Fail unless the checkpoint is of this preset (a guard for scripts).")]
    public string? Preset { get; set; }

    [Option("tolerance", Default = 1e-4, HelpText = "Largest accepted |ONNX − TorchSharp| in the self-check.")]
    public double Tolerance { get; set; }
}
