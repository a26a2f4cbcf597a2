using CommandLine;
using KneeOnnx.Training.Autoencoder;

namespace KneeOnnx.Training.Cli;

[Verb("evaluate-autoencoder", HelpText = "Reconstruct the val images through an exported autoencoder (ONNX Runtime) and score the reconstructions: PSNR, FID-RN18 against val with its real-vs-real floor, a sheet of originals above reconstructions.")]
public sealed class EvaluateAutoencoderOptions
{
    [Option("autoencoder", Required = true, HelpText = "The export-autoencoder folder (vae_encoder/, vae_decoder/).")]
    public string Autoencoder { get; set; } = "";

    [Option("data", Required = true, HelpText = "Dataset root holding val/ and train/ (<grade>/*.png).")]
    public string Data { get; set; } = "";

    [Option("out", Required = true, HelpText = "Report folder: reconstructed/<grade>/*.png, reconstruction.json, report.json/md, reconstruction-sheet.png.")]
    public string Out { get; set; } = "";

    [Option("limit", HelpText = "At most this many val images per grade (default: all).")]
    public int? Limit { get; set; }

    [Option("threads", Default = 0, HelpText = "ONNX Runtime threads (0 = all cores).")]
    public int Threads { get; set; }
}

internal static class EvaluateAutoencoderCommand
{
    public static int Run(EvaluateAutoencoderOptions o, TextWriter output)
    {
        if (o.Limit is < 2) throw new ArgumentException($"--limit must be at least 2 (FID needs two images), got {o.Limit}");
        KneeOnnx.Validation.ThreadCount.Validate(o.Threads);
        KneeOnnx.Validation.OutputGuard.Folder(o.Out, "--out", [new("--autoencoder", o.Autoencoder)],
            [new("--data", Path.Combine(o.Data, "val")), new("--data", Path.Combine(o.Data, "train"))]);
        var files = AutoencoderFiles.Open(o.Autoencoder);
        Reconstruction.Run(files, o.Data, o.Out, o.Limit, output, o.Threads);
        return 0;
    }
}
