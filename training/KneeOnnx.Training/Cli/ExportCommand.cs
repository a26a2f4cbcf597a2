using System.Security.Cryptography;
using CommandLine;
using Google.Protobuf;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Export;
using TorchSharp;

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

    [Option("default-sampler", HelpText = "Write this sampler (" + KneeOnnx.Schedulers.SchedulerFactory.NameList + ") into the model as the one every verb uses when none is asked for; give it with --default-steps, from a measurement on val (docs/samplers.md).")]
    public string? DefaultSampler { get; set; }

    [Option("default-steps", HelpText = "The step count that goes with --default-sampler.")]
    public int? DefaultSteps { get; set; }

    [Option("default-spacing", HelpText = "With --default-sampler: the timestep spacing (trailing | karras) that goes with it, from a measurement on val; absent = trailing.")]
    public string? DefaultSpacing { get; set; }

    [Option("default-eta", HelpText = "With --default-sampler ddim, dpm++2m-sde or dpm++3m-sde: the η that goes with it (--eta), from a measurement on val; absent = the sampler's own (0 for DDIM, 1 for the SDE solvers).")]
    public double? DefaultEta { get; set; }

    [Option("default-guidance", HelpText = "Write this classifier-free guidance scale into the model as the one every verb uses when no --guidance is given, from a measurement on val (needs a run with label dropout).")]
    public double? DefaultGuidance { get; set; }

    [Option("default-guidance-interval", HelpText = "With --default-guidance: the noise levels LOW,HIGH (σ = √((1−ᾱ)/ᾱ), HIGH may be inf) at which that guidance applies by default, from a measurement on val; the other steps run the conditional model alone.")]
    public string? DefaultGuidanceInterval { get; set; }

    [Option("autoencoder", HelpText = "A latent run's autoencoder folder, when it has moved since the run (its encoder must be the run's); default: the folder the run trained with.")]
    public string? Autoencoder { get; set; }

    [Option("tolerance", Default = 1e-4, HelpText = "Largest accepted |ONNX − TorchSharp| in the self-check.")]
    public double Tolerance { get; set; }

    [Option("weight-storage", Default = WeightStorageNames.Float32, HelpText = "float32 | float16: float16 halves the file; compute stays float32 (ONNX Runtime widens the weights when it loads them). The self-check then compares with the rounded weights, and what rounding changed is reported and written into the model.")]
    public string WeightStorage { get; set; } = WeightStorageNames.Float32;
}

internal static class ExportCommand
{
    public static int Run(ExportOptions o, TextWriter output)
    {
        if (Directory.Exists(o.Out)) throw new ArgumentException($"{o.Out}: --out is a folder; give the .onnx file name");
        var storage = WeightStorageNames.Parse(o.WeightStorage, "--weight-storage");
        if (!(o.Tolerance > 0 && double.IsFinite(o.Tolerance))) throw new ArgumentException($"--tolerance must be positive, got {o.Tolerance}");
        if (o.Preset is not null && !Model.Presets.Names.Contains(o.Preset))
            throw new ArgumentException($"--preset '{o.Preset}' is not one of {string.Join(", ", Model.Presets.Names)}");
        var defaults = SamplingDefaults.Parse(o.DefaultSampler, o.DefaultSteps, o.DefaultSpacing, o.DefaultGuidance, o.DefaultGuidanceInterval, o.DefaultEta);
        string path = Runs.Checkpoint.Locate(o.Checkpoint);
        string card = ModelCard.PathFor(o.Out);
        if (Validation.RealPath.Same(Validation.RealPath.Of(card), Validation.RealPath.Of(o.Out)))
            throw new ArgumentException($"{o.Out}: --out ends in .md, the name of its own model card; give a .onnx file name");
        Validation.OutputGuard.File(o.Out, "--out", [new("--checkpoint", path)], Validation.FileKind.Onnx);
        Validation.OutputGuard.File(card, "--out's model card", [new("--checkpoint", path)], Validation.FileKind.Text);
        var state = Runs.Checkpoint.ReadState(path);
        var train = o.Autoencoder is null ? state.Train
            : state.Train.Autoencoder is null ? throw new ArgumentException($"--autoencoder {o.Autoencoder}: {path} is a pixel run; it has no decoder to name")
            : state.Train with { Autoencoder = Path.GetFullPath(o.Autoencoder) };
        if (o.Preset is not null && o.Preset != state.Model.Preset)
            throw new ArgumentException($"{path}: checkpoint is of preset '{state.Model.Preset}', not '{o.Preset}'");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(o.Out));
        if (folder is not null) Directory.CreateDirectory(folder);

        var (_, model) = Runs.Checkpoint.LoadModel(path, o.Raw);
        using var _ = model;
        torch.set_num_threads(Environment.ProcessorCount);
        defaults.CheckFor(path, state.Train.TrainTimesteps, state.Model.IsConditional && state.Model.HasNullGrade);
        var proto = OnnxExporter.Build(model, state, o.Raw ? "raw" : "ema", storage);
        defaults.WriteInto(proto);
        LatentExport.AddDecoder(proto, train, o.Out);
        ExportSelfCheck.Result? rounding = null;
        if (storage == WeightStorage.Float16)
        {
            // What storage costs, against the weights as trained; the check below is against the rounded ones.
            rounding = ExportSelfCheck.Run(proto.ToByteArray(), model, state.Train.TrainTimesteps);
            WeightStorageNames.RoundParameters(model, storage);
            OnnxExporter.SetMetadata(proto, ModelContract.Keys.Float16RoundingMaxAbsDiff, rounding.MaxAbsDiff.ToString("E3", System.Globalization.CultureInfo.InvariantCulture));
        }
        var check = ExportSelfCheck.Run(proto.ToByteArray(), model, state.Train.TrainTimesteps);
        if (!(check.MaxAbsDiff <= o.Tolerance))
            throw new ExportCheckFailedException($"{o.Out}: not written: ONNX Runtime differs from TorchSharp by {check.MaxAbsDiff:E2} (> {o.Tolerance:E0})");
        OnnxExporter.SetMetadata(proto, ModelContract.Keys.SelfCheckMaxAbsDiff, check.MaxAbsDiff.ToString("E3", System.Globalization.CultureInfo.InvariantCulture));
        byte[] bytes = proto.ToByteArray();
        AtomicFile.Write(o.Out, s => s.Write(bytes));
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        ModelCard.Write(o.Out, proto, model.ParameterCount, sha, check);

        var ops = OnnxExporter.OperatorCounts(proto);
        output.WriteLine($"wrote {o.Out} ({bytes.Length / 1e6:F1} MB, sha256 {sha[..16]}…) and {ModelCard.PathFor(o.Out)}");
        output.WriteLine($"  {state.Model.Preset}/{state.Model.Conditioning}, step {state.Step}, {(o.Raw ? "raw" : "EMA")} weights, opset {OnnxExporter.Opset}, {proto.Graph.Node.Count} nodes");
        output.WriteLine($"  self-check: max |ONNX − TorchSharp| = {check.MaxAbsDiff:E2} over {check.Cases} cases (tolerance {o.Tolerance:E0})");
        if (rounding is not null)
            output.WriteLine($"  weights stored as float16: max |file − unrounded weights' output| = {rounding.MaxAbsDiff:E2} over the same cases");
        output.WriteLine($"  operators: {string.Join(", ", ops.Select(kv => $"{kv.Key} {kv.Value}"))}");
        return 0;
    }
}
