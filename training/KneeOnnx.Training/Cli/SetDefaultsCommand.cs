using System.Security.Cryptography;
using CommandLine;
using Google.Protobuf;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Export;

namespace KneeOnnx.Training.Cli;

[Verb("set-defaults", HelpText = "Write new sampling defaults (sampler, steps, spacing, guidance) into an exported U-Net, weights and graph untouched: for a model whose checkpoint is gone, once a measurement on val chose them (docs/samplers.md).")]
public sealed class SetDefaultsOptions
{
    [Option("model", Required = true, HelpText = "A model folder (its unet/model.onnx) or a U-Net .onnx file.")]
    public string Model { get; set; } = "";

    [Option("out", HelpText = "Write the changed U-Net here (default: replace --model's U-Net; written under a temporary name and renamed). A latent U-Net written elsewhere still names its decoder by path, so keep it beside its vae_decoder/ folder.")]
    public string? Out { get; set; }

    [Option("default-sampler", HelpText = "The sampler every verb uses when none is asked for (" + Schedulers.SchedulerFactory.NameList + "); give it with --default-steps.")]
    public string? DefaultSampler { get; set; }

    [Option("default-steps", HelpText = "The step count that goes with --default-sampler.")]
    public int? DefaultSteps { get; set; }

    [Option("default-spacing", HelpText = "With --default-sampler: trailing | karras (absent = trailing).")]
    public string? DefaultSpacing { get; set; }

    [Option("default-eta", HelpText = "With --default-sampler ddim, dpm++2m-sde or dpm++3m-sde: the η that goes with it (--eta), from a measurement on val; absent = the sampler's own (0 for DDIM, 1 for the SDE solvers).")]
    public double? DefaultEta { get; set; }

    [Option("default-guidance", HelpText = "The classifier-free guidance scale every verb uses when no --guidance is given (the model needs a null grade).")]
    public double? DefaultGuidance { get; set; }

    [Option("default-guidance-interval", HelpText = "With --default-guidance: the noise levels LOW,HIGH at which it applies (absent = every step).")]
    public string? DefaultGuidanceInterval { get; set; }
}

internal static class SetDefaultsCommand
{
    public static int Run(SetDefaultsOptions o, TextWriter output)
    {
        var defaults = SamplingDefaults.Parse(o.DefaultSampler, o.DefaultSteps, o.DefaultSpacing, o.DefaultGuidance, o.DefaultGuidanceInterval, o.DefaultEta);
        if (defaults.IsEmpty) throw new ArgumentException("nothing to set: give --default-sampler with --default-steps, or --default-guidance");
        string source = KneeModel.Locate(o.Model);
        string target = o.Out ?? source;
        if (o.Out is not null)
        {
            if (Directory.Exists(o.Out)) throw new ArgumentException($"{o.Out}: --out is a folder; give the .onnx file name");
            Validation.OutputGuard.File(o.Out, "--out", [new("--model", source)], Validation.FileKind.Onnx);
        }
        // The model as it is, through the same checks every verb makes; the new settings are checked against it.
        ModelInfo before;
        using (var model = KneeModel.Open(source, new RuntimeOptions { Provider = ProviderRequest.Cpu }))
            before = model.Info;
        defaults.CheckFor(source, before.Schedule.TrainTimesteps, before.SupportsGuidance);

        byte[] sourceBytes = File.ReadAllBytes(source);
        var proto = Onnx.ModelProto.Parser.ParseFrom(sourceBytes);
        string metadataBefore = proto.MetadataProps.ToString();
        defaults.WriteInto(proto);
        if (proto.MetadataProps.ToString() == metadataBefore && o.Out is null)
        {
            // Rewriting the same defaults would only change the file's SHA-256, which manifests and cards name it by.
            output.WriteLine($"{source} already carries these defaults ({Describe(before)}); nothing written");
            return 0;
        }
        // The new file names the files it was made from (newest last): a card of any of them still tells these weights'
        // training, however many set-defaults ran between two renders of the card.
        string sourceSha = Convert.ToHexStringLower(SHA256.HashData(sourceBytes));
        var ancestors = proto.MetadataProps.FirstOrDefault(p => p.Key == ModelContract.Keys.DefaultsSetFrom)?.Value.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
        OnnxExporter.SetMetadata(proto, ModelContract.Keys.DefaultsSetFrom, string.Join(',', ancestors.Append(sourceSha).TakeLast(16)));
        byte[] bytes = proto.ToByteArray();
        // Opened again from the new bytes before they replace anything: a file the verbs would refuse is never written.
        string check = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.check.onnx");
        ModelInfo after;
        try
        {
            File.WriteAllBytes(check, bytes);
            using var reopened = KneeModel.Open(check, new RuntimeOptions { Provider = ProviderRequest.Cpu });
            after = reopened.Info;
        }
        finally
        {
            File.Delete(check);
        }
        AtomicFile.Write(target, s => s.Write(bytes));
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        output.WriteLine($"wrote {target} (sha256 {sha[..16]}…; weights and graph unchanged)");
        output.WriteLine($"  defaults: {Describe(before)} → {Describe(after)}");
        output.WriteLine("  its model card still describes the earlier file: regenerate it (kneeonnx-train card --evaluation ...) after measuring the new defaults; its Training section is kept");
        return 0;
    }

    private static string Describe(ModelInfo info) =>
        (info.DefaultSampler is null ? "no sampler" : $"{info.DefaultSampler}-{info.DefaultSteps}" + (info.DefaultSpacing is { } s && s != Schedulers.TimestepSpacing.TrailingName ? $" ({s})" : "")
            + (info.DefaultEta is double eta ? $" η {eta.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : ""))
        + (info.DefaultGuidance is double w ? $", guidance {w.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "")
        + (info.DefaultGuidanceInterval is { } gi ? $" at σ in ({gi}]" : "");
}
