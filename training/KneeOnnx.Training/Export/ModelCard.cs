using System.Globalization;
using System.Text;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using Onnx;

namespace KneeOnnx.Training.Export;

/// <summary>The human-readable card written beside every exported model (<c>name.md</c>).</summary>
public static class ModelCard
{
    public static string PathFor(string onnxPath) => Path.ChangeExtension(onnxPath, ".md");

    public static void Write(string onnxPath, ModelProto model, long parameters, string sha256, ExportSelfCheck.Result check) =>
        Write(onnxPath, model, parameters, sha256,
            $"max abs difference to TorchSharp {check.MaxAbsDiff.ToString("E2", CultureInfo.InvariantCulture)} over {check.Cases} cases (batch 1 and 3; t = 0, T/2, T-1; all grades)", "");

    /// <param name="parity">the export self-check, in words.</param>
    /// <param name="sections">Markdown inserted before the licence (training, evaluation, speed), from <see cref="ModelCardSections"/>.</param>
    public static void Write(string onnxPath, ModelProto model, long parameters, string sha256, string parity, string sections)
    {
        var meta = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        string Get(string key) => meta.TryGetValue(key, out var v) ? v : "";
        bool conditional = model.Graph.Input.Any(i => i.Name == ModelContract.GradeInput);
        bool sided = model.Graph.Input.Any(i => i.Name == ModelContract.SideInput);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        // A latent U-Net is unet/model.onnx inside the model folder users name: the card is the folder's.
        string title = meta.ContainsKey(ModelContract.Keys.Decoder)
            ? Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(onnxPath)))!)
            : Path.GetFileNameWithoutExtension(onnxPath);
        sb.AppendLine($"# {title} — KneeOnnx model card").AppendLine();
        bool velocity = Get(ModelContract.Keys.PredictionType) == Diffusion.PredictionType.Velocity;
        bool zeroSnr = Get(ModelContract.Keys.ZeroTerminalSnr) == "true";
        // A latent U-Net's own grid is not the picture the user gets: say both, so nobody reads 32² as the output size.
        string decoder = Get(ModelContract.Keys.Decoder);
        bool latent = decoder.Length > 0;
        string grid = $"{Get(ModelContract.Keys.ImageSize)}×{Get(ModelContract.Keys.ImageSize)}";
        string output = latent ? $"{Get(ModelContract.Keys.OutputImageSize)}×{Get(ModelContract.Keys.OutputImageSize)}" : grid;
        string channels = Get(ModelContract.Keys.Channels) is { Length: > 0 } c ? c : "1";
        string what = latent
            ? $"generates {output} grayscale knee radiographs through a latent autoencoder (the diffusion runs on {channels}×{grid} latents, which `{decoder}` decodes)"
            : $"generates {grid} grayscale knee radiographs";
        sb.AppendLine($"A denoising diffusion model ({(velocity ? "v-prediction" : "ε-prediction")}) that {what}"
            + (conditional ? " conditioned on the Kellgren-Lawrence grade" + (sided ? " and the knee side (L/R)." : ".") : ", unconditional.")).AppendLine();
        sb.AppendLine("| fact | value |").AppendLine("|---|---|");
        sb.AppendLine($"| file | `{Path.GetFileName(onnxPath)}`, {new FileInfo(onnxPath).Length / 1e6:F1} MB, SHA-256 `{sha256}` |");
        sb.AppendLine($"| preset | `{Get(ModelContract.Keys.Preset)}`{LeanDecoder(Get(ModelContract.Keys.UNetConfig))}, {parameters.ToString("N0", inv)} parameters, conditioning `{Get(ModelContract.Keys.Conditioning)}`, null grade {Get(ModelContract.Keys.NullGrade)} |");
        sb.AppendLine($"| training | {Get(ModelContract.Keys.TrainSteps)} steps, seed {Get(ModelContract.Keys.TrainSeed)}, {Get(ModelContract.Keys.Weights)} weights, data SHA-256 `{Get(ModelContract.Keys.DatasetSha256)}` |");
        sb.AppendLine($"| schedule | {Get(ModelContract.Keys.BetaSchedule)} β {Get(ModelContract.Keys.BetaStart)} → {Get(ModelContract.Keys.BetaEnd)}, T = {Get(ModelContract.Keys.NumTrainTimesteps)}{(zeroSnr ? ", rescaled to zero terminal SNR (Lin et al. 2024)" : "")} |");
        sb.AppendLine($"| ONNX | opset {model.OpsetImport[0].Version}, IR {model.IrVersion}, exporter {Get(ModelContract.Keys.ExporterVersion)}, exported {Get(ModelContract.Keys.ExportTime)} |");
        sb.AppendLine($"| parity | {parity} |");
        if (Get(ModelContract.Keys.WeightStorage) == WeightStorageNames.Float16)
            sb.AppendLine($"| weights | stored as float16 (compute in float32); rounding them moved the outputs by at most {Get(ModelContract.Keys.Float16RoundingMaxAbsDiff)} on the self-check's cases |");
        if (Get(ModelContract.Keys.DefaultSampler) is { Length: > 0 } sampler)
            sb.AppendLine($"| default sampler | {sampler}, {Get(ModelContract.Keys.DefaultSteps)} steps"
                + (Get(ModelContract.Keys.DefaultSpacing) is { Length: > 0 } spacing ? $", {spacing} timestep spacing" : "")
                + (Get(ModelContract.Keys.DefaultEta) is { Length: > 0 } eta ? $", η {eta}" : "") + ": what every verb uses when no `--sampler`/`--steps` is given"
                + (Get(ModelContract.Keys.DefaultSpacing) is { Length: > 0 } ? " (another `--sampler` runs on trailing spacing unless `--spacing` says otherwise)" : "") + " |");
        if (Get(ModelContract.Keys.DefaultGuidance) is { Length: > 0 } guidanceScale)
            sb.AppendLine($"| default guidance | {guidanceScale}: the classifier-free guidance scale every verb uses when no `--guidance` is given"
                + (Get(ModelContract.Keys.DefaultGuidanceInterval) is { Length: > 0 } interval ? $", applied at noise levels σ in ({interval}] (`--guidance-interval`)" : "") + " |");
        if (Get(ModelContract.Keys.DistilledGuidance) is { Length: > 0 } distilled)
            sb.AppendLine($"| distilled guidance | {distilled}: trained to give the classifier-free guided prediction of its teacher at that scale in one call (Meng et al. 2023), so every step costs one U-Net call; `--guidance` other than 1 is refused |");
        sb.AppendLine();
        sb.AppendLine("## Signature").AppendLine();
        sb.AppendLine(latent
            ? $"- `{ModelContract.SampleInput}` float32 [N,{channels},H,W], the autoencoder's latents times its scale factor (about unit variance)"
            : $"- `{ModelContract.SampleInput}` float32 [N,1,H,W], pixel space [-1, 1] (gray/127.5 − 1)");
        sb.AppendLine($"- `{ModelContract.TimestepInput}` int64 [N], 0 … T−1");
        if (conditional) sb.AppendLine($"- `{ModelContract.GradeInput}` int64 [N], KL grade 0 … 4 (or the null grade for classifier-free guidance, when present)");
        if (sided) sb.AppendLine($"- `{ModelContract.SideInput}` int64 [N], knee side 0 = L, 1 = R, 2 = either (the null side, also the guidance baseline)");
        sb.AppendLine($"- output `{ModelContract.NoiseOutput}` float32 [N,{channels},H,W], {(velocity ? "the predicted velocity v = √ᾱ·ε − √(1−ᾱ)·x₀ (the name is the contract's; `kneeonnx.prediction_type` says what it holds)" : "the predicted noise ε")}");
        if (latent)
            sb.AppendLine($"- decoder: `{decoder}` beside it (SHA-256 `{Get(ModelContract.Keys.DecoderSha256)}`), latents → {output} pixels in [-1, 1]; a missing or different decoder is refused");
        sb.AppendLine().AppendLine("Every constant inference needs is in the file's metadata (`kneeonnx.*` keys).").AppendLine();
        sb.AppendLine("## Operators").AppendLine();
        sb.AppendLine(string.Join(", ", OnnxExporter.OperatorCounts(model).Select(kv => $"{kv.Key} {kv.Value}"))).AppendLine();
        sb.Append(sections);
        sb.AppendLine("## Data and licence").AppendLine();
        sb.AppendLine("Trained on Chen P., Knee Osteoarthritis Severity Grading Dataset, Mendeley Data, 2018, doi:10.17632/56rmx5bjcr.1 (CC BY 4.0); credit it wherever this model or its images are used.").AppendLine();
        sb.AppendLine("## What this model is not").AppendLine();
        sb.AppendLine("Not a diagnostic tool; its images are synthetic and low resolution, and it learned from one public dataset, so it carries that dataset's population, devices and labelling.");
        AtomicFile.WriteAllText(PathFor(onnxPath), sb.ToString());
    }

    /// <summary>" with a lean decoder (…)" for a network with fewer decoder blocks than its preset (--up-blocks), else nothing.</summary>
    private static string LeanDecoder(string unetConfig)
    {
        if (unetConfig.Length == 0) return "";
        var config = System.Text.Json.JsonSerializer.Deserialize<Model.UNetConfig>(unetConfig);
        return config?.UpBlocksPerLevel is int blocks
            ? $" with a lean decoder ({blocks} ResNet block{(blocks == 1 ? "" : "s")} per decoder level where the preset has {config.BlocksPerLevel + 1})"
            : "";
    }
}
