using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using KneeOnnx.Diffusion;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Export.Emitters;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Onnx;

namespace KneeOnnx.Training.Export;

/// <summary>Builds the self-describing ONNX model of a trained U-Net: graph, weights and every fact inference needs.</summary>
public static class OnnxExporter
{
    public const string ExporterVersion = "1.0.0";
    /// <summary>
    /// Opset 17 (ONNX 1.12, ONNX Runtime ≥ 1.13, 2022): every operator used here exists there, so the file also loads in
    /// runtimes several years old; nothing newer (GroupNormalization-21, Attention-23) is needed.
    /// </summary>
    public const int Opset = 17;
    public const int IrVersion = 8;

    public static ModelProto Build(UNet model, TrainState state, string weights, WeightStorage storage = WeightStorage.Float32)
    {
        var config = model.Config;
        var builder = new OnnxGraphBuilder(model, storage);
        var graph = builder.Graph;
        graph.Input.Add(Value(ModelContract.SampleInput, TensorProto.Types.DataType.Float, ["N", config.Channels, config.ImageSize, config.ImageSize]));
        graph.Input.Add(Value(ModelContract.TimestepInput, TensorProto.Types.DataType.Int64, ["N"]));
        if (config.IsConditional)
            graph.Input.Add(Value(ModelContract.GradeInput, TensorProto.Types.DataType.Int64, ["N"]));
        if (config.SideConditioned)
            graph.Input.Add(Value(ModelContract.SideInput, TensorProto.Types.DataType.Int64, ["N"]));

        string result = UNetEmitter.Emit(builder, model);
        var identity = new NodeProto { OpType = "Identity", Name = "n_noise" };
        identity.Input.Add(result);
        identity.Output.Add(ModelContract.NoiseOutput);
        graph.Node.Add(identity);
        graph.Output.Add(Value(ModelContract.NoiseOutput, TensorProto.Types.DataType.Float, ["N", config.Channels, config.ImageSize, config.ImageSize]));

        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "KneeOnnx",
            ProducerVersion = ExporterVersion,
            Domain = "org.kneeonnx",
            ModelVersion = state.Step,
            DocString = "Grade-conditioned DDPM noise predictor for knee radiographs (KL grades 0-4). Trained on Chen P., Knee Osteoarthritis Severity Grading Dataset, Mendeley Data, 2018, doi:10.17632/56rmx5bjcr.1 (CC BY 4.0).",
            Graph = graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in Metadata(config, state, weights))
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        proto.MetadataProps.Add(new StringStringEntryProto { Key = ModelContract.Keys.WeightStorage, Value = WeightStorageNames.Name(storage) });
        return proto;
    }

    public static IEnumerable<(string Key, string Value)> Metadata(UNetConfig config, TrainState state, string weights)
    {
        var train = state.Train;
        var inv = CultureInfo.InvariantCulture;
        var schedule = train.CreateSchedule();
        yield return (ModelContract.Keys.FormatVersion, ModelContract.FormatVersion);
        yield return (ModelContract.Keys.ImageSize, config.ImageSize.ToString(inv));
        yield return (ModelContract.Keys.Channels, config.Channels.ToString(inv));
        yield return (ModelContract.Keys.PixelRange, "[-1,1] = gray/127.5 - 1");
        yield return (ModelContract.Keys.NumTrainTimesteps, schedule.TrainTimesteps.ToString(inv));
        yield return (ModelContract.Keys.BetaSchedule, schedule.Kind);
        yield return (ModelContract.Keys.BetaStart, schedule.BetaStart.ToString("R", inv));
        yield return (ModelContract.Keys.BetaEnd, schedule.BetaEnd.ToString("R", inv));
        yield return (ModelContract.Keys.PredictionType, train.PredictionType);
        yield return (ModelContract.Keys.ZeroTerminalSnr, schedule.ZeroTerminalSnr ? "true" : "false");
        // x̂₀ lies in [-1, 1] only in pixel space; a latent model's decoder facts are added by LatentExport.
        yield return (ModelContract.Keys.ClipSample, train.Autoencoder is null ? "true" : "false");
        yield return (ModelContract.Keys.Grades, JsonSerializer.Serialize(KlGrades.Names.Take(config.NumGrades)));
        yield return (ModelContract.Keys.Conditioning, config.Conditioning);
        yield return (ModelContract.Keys.NullGrade, config.NullGrade.ToString(inv));
        if (config.SideConditioned)
        {
            yield return (ModelContract.Keys.Sides, JsonSerializer.Serialize(KneeSides.Names));
            yield return (ModelContract.Keys.NullSide, config.NullSide.ToString(inv));
        }
        if (train.DistillGuidance is double distilled) yield return (ModelContract.Keys.DistilledGuidance, distilled.ToString("R", inv));
        yield return (ModelContract.Keys.Preset, config.Preset);
        yield return (ModelContract.Keys.UNetConfig, JsonSerializer.Serialize(config));
        // Every step behind the weights: a run continued from an exported model adds its steps to that model's.
        yield return (ModelContract.Keys.TrainSteps, (state.Step + (train.InitFromSteps ?? 0)).ToString(inv));
        yield return (ModelContract.Keys.TrainSeed, train.Seed.ToString(inv));
        yield return (ModelContract.Keys.Weights, weights);
        yield return (ModelContract.Keys.DatasetSha256, state.DatasetSha256);
        yield return (ModelContract.Keys.DatasetPathSha256, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(train.Data))));
        yield return (ModelContract.Keys.ExportTime, DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", inv));
        yield return (ModelContract.Keys.ExporterVersion, ExporterVersion);
    }

    public static void SetMetadata(ModelProto model, string key, string value)
    {
        var existing = model.MetadataProps.FirstOrDefault(p => p.Key == key);
        if (existing is not null) existing.Value = value;
        else model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
    }

    /// <summary>Operator counts, for the model card and the closing figures.</summary>
    public static SortedDictionary<string, int> OperatorCounts(ModelProto model) =>
        new(model.Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal);

    internal static ValueInfoProto Value(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, CultureInfo.InvariantCulture) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
