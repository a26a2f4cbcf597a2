using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Model;
using Onnx;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Export;

/// <summary>What an exported model says about itself that a training run needs to continue from it.</summary>
public sealed record ImportedModelInfo(UNetConfig Model, string BetaSchedule, int TrainTimesteps, double BetaStart, double BetaEnd, long TrainSteps, string Sha256,
    string PredictionType, bool ZeroTerminalSnr);

/// <summary>
/// The exporter's inverse: reads the U-Net configuration from an exported file's metadata and its weights from the
/// initializers, which the exporter names after state_dict entries (Linear weights fed to MatMul carry a <c>_t</c>
/// suffix and are transposed; GroupNorm affine vectors are stored as [C,1,1]).
/// </summary>
public static class OnnxWeightImporter
{
    public const string TransposedSuffix = "_t";
    /// <summary>The state_dict prefix of the side embedding, which a grade-only file lacks when a run adds sides to it.</summary>
    public const string SideEmbeddingPrefix = "side_embedding.";

    public static (ImportedModelInfo Info, ModelProto Proto) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: model not found", path);
        byte[] bytes = File.ReadAllBytes(path);
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not an ONNX model ({e.Message})", e);
        }
        var metadata = proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        // The contract every inference verb enforces (sides, null side, grades, schedule, latent decoder keys) holds here
        // too: a file generate would refuse must not start a training run or a card.
        var contract = ModelInfo.Parse(path, metadata);
        if (proto.Graph.Input.Any(i => i.Name == ModelContract.SideInput) != contract.IsSideConditioned)
            throw new InvalidDataException($"{path}: contradictory side metadata: the graph {(contract.IsSideConditioned ? "lacks" : "has")} a '{ModelContract.SideInput}' input but the metadata {(contract.IsSideConditioned ? "name" : "name no")} sides");
        string Get(string key) => metadata.TryGetValue(key, out var v) && v.Length > 0
            ? v
            : throw new InvalidDataException($"{path}: metadata '{key}' missing; only models exported by KneeOnnx can be trained further");
        UNetConfig model;
        try
        {
            model = JsonSerializer.Deserialize<UNetConfig>(Get(ModelContract.Keys.UNetConfig))
                    ?? throw new InvalidDataException($"{path}: empty '{ModelContract.Keys.UNetConfig}'");
            model.Validate();
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: '{ModelContract.Keys.UNetConfig}' is not a valid U-Net configuration ({e.Message})", e);
        }
        if (model.ImageSize != contract.ImageSize || model.Channels != contract.Channels || model.SideConditioned != contract.IsSideConditioned
            || model.Conditioning != contract.Conditioning || model.NullGrade != contract.NullGrade)
            throw new InvalidDataException($"{path}: '{ModelContract.Keys.UNetConfig}' contradicts the model's metadata (image size {model.ImageSize} vs {contract.ImageSize}, "
                + $"channels {model.Channels} vs {contract.Channels}, conditioning {model.Conditioning} vs {contract.Conditioning}, sides {model.SideConditioned} vs {contract.IsSideConditioned}, "
                + $"null grade {model.NullGrade} vs {contract.NullGrade})");
        double Number(string key) => double.TryParse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new InvalidDataException($"{path}: metadata '{key}' is not a number: '{Get(key)}'");
        double timesteps = Number(ModelContract.Keys.NumTrainTimesteps);
        if (timesteps is < 1 or > 100_000 || timesteps != Math.Floor(timesteps))
            throw new InvalidDataException($"{path}: metadata '{ModelContract.Keys.NumTrainTimesteps}' is out of range: {timesteps}");
        var info = new ImportedModelInfo(
            model,
            Get(ModelContract.Keys.BetaSchedule),
            (int)timesteps,
            Number(ModelContract.Keys.BetaStart),
            Number(ModelContract.Keys.BetaEnd),
            metadata.ContainsKey(ModelContract.Keys.TrainSteps) ? (long)Number(ModelContract.Keys.TrainSteps) : 0,
            Convert.ToHexStringLower(SHA256.HashData(bytes)),
            contract.PredictionType,
            contract.Schedule.ZeroTerminalSnr);
        return (info, proto);
    }

    /// <summary>
    /// Copies every state_dict entry of <paramref name="model"/> from the file's initializers; fails naming the first one
    /// absent or misshapen. Entries under <paramref name="newPrefix"/> are new parts the file cannot hold and keep their initial values.
    /// </summary>
    public static void LoadInto(ModelProto proto, nn.Module model, string path, string? newPrefix = null) => LoadInto(proto.Graph.Initializer, model, path, newPrefix);

    /// <summary>The same from initializers gathered from several files (an autoencoder's encoder and decoder).</summary>
    public static void LoadInto(IEnumerable<TensorProto> tensors, nn.Module model, string path, string? newPrefix = null)
    {
        var initializers = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (var t in tensors) initializers.TryAdd(t.Name, t);
        using var _ = no_grad();
        foreach (var (name, target) in model.state_dict())
        {
            if (newPrefix is not null && name.StartsWith(newPrefix, StringComparison.Ordinal)) continue;
            bool transposed = !initializers.ContainsKey(name);
            if (!initializers.TryGetValue(transposed ? name + TransposedSuffix : name, out var source))
                throw new InvalidDataException($"{path}: no weights for '{name}'; the file does not hold this network's configuration");
            float[] values = FloatsOf(source, path);
            if (values.LongLength != target.numel())
                throw new InvalidDataException($"{path}: '{source.Name}' holds {values.LongLength} values, the model's '{name}' needs {target.numel()}");
            long[] storedShape = source.Dims.ToArray();
            if (storedShape.Aggregate(1L, (a, d) => a * d) != values.LongLength || (transposed && storedShape.Length != 2))
                throw new InvalidDataException($"{path}: '{source.Name}' has shape [{string.Join(",", storedShape)}] that does not fit its {values.LongLength} values");
            using var scope = NewDisposeScope();
            var loaded = tensor(values).reshape(storedShape);
            var arranged = transposed ? loaded.t().contiguous() : loaded.reshape(target.shape);
            if (!arranged.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{path}: '{source.Name}' has shape [{string.Join(",", storedShape)}], the model's '{name}' is [{string.Join(",", target.shape)}]");
            target.copy_(arranged);
        }
    }

    /// <summary>An initializer's values as floats: float32 as stored, float16 (<see cref="WeightStorage.Float16"/>) widened exactly.</summary>
    internal static float[] FloatsOf(TensorProto t, string path)
    {
        if (t.DataType == (int)TensorProto.Types.DataType.Float16)
        {
            if (t.RawData.Length % 2 != 0) throw new InvalidDataException($"{path}: initializer '{t.Name}' has a torn payload");
            // Without raw data ONNX keeps float16 values as their bit patterns in int32_data.
            var halves = t.RawData.IsEmpty
                ? t.Int32Data.Select(bits => BitConverter.UInt16BitsToHalf((ushort)bits)).ToArray()
                : MemoryMarshal.Cast<byte, Half>(t.RawData.Span).ToArray();
            return Array.ConvertAll(halves, h => (float)h);
        }
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw new InvalidDataException($"{path}: initializer '{t.Name}' is neither float32 nor float16 (data type {t.DataType})");
        if (!t.RawData.IsEmpty)
        {
            if (t.RawData.Length % sizeof(float) != 0) throw new InvalidDataException($"{path}: initializer '{t.Name}' has a torn payload");
            return MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        }
        return t.FloatData.ToArray();
    }
}
