using System.Security.Cryptography;
using Google.Protobuf;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Export;
using TorchSharp;

namespace KneeOnnx.Training.Cli;

internal static class ExportCommand
{
    public static int Run(ExportOptions o, TextWriter output)
    {
        if (Directory.Exists(o.Out)) throw new ArgumentException($"{o.Out}: --out is a folder; give the .onnx file name");
        if (!(o.Tolerance > 0)) throw new ArgumentException($"--tolerance must be positive, got {o.Tolerance}");
        string path = Training.Checkpoint.Locate(o.Checkpoint);
        var state = Training.Checkpoint.ReadState(path);
        if (o.Preset is not null && o.Preset != state.Model.Preset)
            throw new ArgumentException($"{path}: checkpoint is of preset '{state.Model.Preset}', not '{o.Preset}'");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(o.Out));
        if (folder is not null) Directory.CreateDirectory(folder);

        var (_, model) = Training.Checkpoint.LoadModel(path, o.Raw);
        using var _ = model;
        torch.set_num_threads(Environment.ProcessorCount);
        var proto = OnnxExporter.Build(model, state, o.Raw ? "raw" : "ema");
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
        output.WriteLine($"  operators: {string.Join(", ", ops.Select(kv => $"{kv.Key} {kv.Value}"))}");
        return 0;
    }
}
