using System.Globalization;
using System.Security.Cryptography;
using CommandLine;
using Google.Protobuf;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Export;
using KneeOnnx.Validation;
using TorchSharp;

namespace KneeOnnx.Training.Cli;

[Verb("export-autoencoder", HelpText = "Export a trained knee autoencoder as OUT/vae_encoder/model.onnx and OUT/vae_decoder/model.onnx, with the latent scale measured on the training images; each checked against TorchSharp before it is written.")]
public sealed class ExportAutoencoderOptions : TorchOptions
{
    [Option("checkpoint", Required = true, HelpText = "RUNDIR of train-autoencoder, or its autoencoder.ckpt.")]
    public string Checkpoint { get; set; } = "";

    [Option("out", Required = true, HelpText = "Model folder; vae_encoder/ and vae_decoder/ are written in it.")]
    public string Out { get; set; } = "";

    [Option("data", HelpText = "Dataset root whose train split sets the latent scale (default: the one the autoencoder was trained on).")]
    public string? Data { get; set; }

    [Option("scale-images", Default = 1000, HelpText = "Training images whose latents set the scale factor (spread evenly over the split).")]
    public int ScaleImages { get; set; }

    [Option("tolerance", Default = 1e-4, HelpText = "Largest accepted |ONNX − TorchSharp| in the self-check.")]
    public double Tolerance { get; set; }

    [Option("raw", HelpText = "Export the run's raw weights even where it keeps a moving average of them (--ema-decay), which is exported otherwise.")]
    public bool Raw { get; set; }

    [Option("weight-storage", Default = WeightStorageNames.Float32, HelpText = "float32 | float16 for the parts written (a frozen encoder is copied as it is): float16 halves a file; compute stays float32. The self-check then compares with the rounded weights, and what rounding changed is reported and written into the part.")]
    public string WeightStorage { get; set; } = WeightStorageNames.Float32;
}

internal static class ExportAutoencoderCommand
{
    public static int Run(ExportAutoencoderOptions o, TextWriter output)
    {
        if (!(o.Tolerance > 0 && double.IsFinite(o.Tolerance))) throw new ArgumentException($"--tolerance must be positive, got {o.Tolerance}");
        if (o.ScaleImages is < 16 or > 100_000) throw new ArgumentException($"--scale-images must be in 16..100000, got {o.ScaleImages}");
        if (File.Exists(o.Out)) throw new ArgumentException($"{o.Out}: --out is a file; give a model folder");
        var storage = WeightStorageNames.Parse(o.WeightStorage, "--weight-storage");
        string path = AutoencoderCheckpoint.Locate(o.Checkpoint);
        var state = AutoencoderCheckpoint.ReadState(path);
        string[] files = [AutoencoderContract.EncoderPart, AutoencoderContract.DecoderPart];
        foreach (var part in files)
            OutputGuard.File(Path.Combine(o.Out, part, AutoencoderContract.FileName), "--out", [new("--checkpoint", path)], FileKind.Onnx);
        string data = o.Data ?? state.Train.Data;

        torch.set_num_threads(Environment.ProcessorCount);
        bool averaged = !o.Raw && AutoencoderCheckpoint.HasAverage(state);
        var (_, model) = AutoencoderCheckpoint.LoadModel(path, live: !averaged);
        using var _ = model;
        var frozen = state.Train.FreezeEncoder ? FrozenEncoder.Open(state, model, o.Data) : null;
        float scale;
        string weights;
        var parts = new List<AutoencoderExporter.Part>();
        if (frozen is not null)
        {
            // The latents must stay the ones U-Nets were trained on: same encoder file, same scale, same pair identity.
            (scale, weights) = (frozen.ScaleFactor, frozen.PairSha256);
            string target = Path.Combine(o.Out, AutoencoderContract.EncoderPart, AutoencoderContract.FileName);
            if (!RealPath.Same(RealPath.Of(target), RealPath.Of(frozen.EncoderPath)))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                byte[] encoderBytes = File.ReadAllBytes(frozen.EncoderPath);
                AtomicFile.Write(target, s => s.Write(encoderBytes));
            }
            output.WriteLine($"encoder frozen: {target} is {frozen.EncoderPath} byte for byte (sha256 {frozen.EncoderSha256[..16]}…); scale factor {scale.ToString("G6", CultureInfo.InvariantCulture)} kept");
        }
        else
        {
            var images = KneeDataset.Load(data, "train", state.Model.ImageSize);
            scale = LatentScale.Measure(model, images, o.ScaleImages, torch.CPU);
            weights = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
            // The raw and the averaged weights of one checkpoint are two autoencoders: their parts must not pair.
            if (averaged) weights = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(weights + "+ema")));
            output.WriteLine($"latent scale factor {scale.ToString("G6", CultureInfo.InvariantCulture)} (1/σ of the means of {Math.Min(o.ScaleImages, images.Count)} train images of {images.Directory})");
            parts.Add(AutoencoderExporter.Encoder(model, state, scale, weights, storage, averaged));
        }
        parts.Add(AutoencoderExporter.Decoder(model, state, scale, weights, storage, averaged));
        foreach (var exported in parts)
        {
            if (!(exported.SelfCheckMaxAbsDiff <= o.Tolerance))
                throw new ExportCheckFailedException($"{o.Out}: {exported.Name} not written: ONNX Runtime differs from TorchSharp by {exported.SelfCheckMaxAbsDiff:E2} (> {o.Tolerance:E0})");
            string file = Path.Combine(o.Out, exported.Name, AutoencoderContract.FileName);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            byte[] bytes = exported.Proto.ToByteArray();
            AtomicFile.Write(file, s => s.Write(bytes));
            output.WriteLine($"wrote {file} ({bytes.Length / 1e6:F1} MB, sha256 {Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}…); self-check max |ONNX − TorchSharp| = {exported.SelfCheckMaxAbsDiff:E2}"
                + (exported.RoundingMaxAbsDiff is double r ? $"; weights stored as float16: max |file − unrounded weights' output| = {r:E2}" : ""));
        }
        output.WriteLine($"  {state.Model.Preset}, step {state.Step}: {state.Model.ImageSize}² ↔ {state.Model.LatentChannels}×{state.Model.LatentSize}² (f = {state.Model.Factor}); "
            + (averaged ? $"the run's moving average of its weights (ema, decay {state.Train.EmaDecay.ToString("R", CultureInfo.InvariantCulture)})" : "raw weights"));
        return 0;
    }
}
