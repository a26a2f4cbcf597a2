using System.Text;
using System.Text.Json;
using KneeOnnx.IO;
using TorchSharp;

namespace KneeOnnx.Training.Classifier;

/// <summary>What a classifier predicts: the KL grade (five classes) or the knee side (L, R).</summary>
public static class ClassifierTarget
{
    public const string Grade = "grade";
    public const string Side = "side";
    public static readonly IReadOnlyList<string> All = [Grade, Side];

    public static IReadOnlyList<string> ClassNames(string target) => target == Side ? KneeSides.Names : KlGrades.Names;
}

/// <summary>What a saved classifier is: its target, input size, widths, and the val figures it was selected on.</summary>
public sealed record ClassifierHeader
{
    /// <summary>Files written before side classifiers existed have no target: they grade.</summary>
    public string Target { get; init; } = ClassifierTarget.Grade;
    [System.Text.Json.Serialization.JsonIgnore] public int ClassCount => ClassifierTarget.ClassNames(Target).Count;
    public required int ImageSize { get; init; }
    public required int[] Widths { get; init; }
    /// <summary>The network (<see cref="ClassifierBackbone"/>); files written before there was a choice hold the small CNN.</summary>
    public string Backbone { get; init; } = ClassifierBackbone.SmallCnn;
    public required int Epoch { get; init; }
    public required double ValAccuracy { get; init; }
    public required double ValQuadraticKappa { get; init; }
    public required double ValMeanAbsoluteError { get; init; }
    public required double[] ValRecall { get; init; }
    /// <summary>Mean over classes of F1 on val (files from before it was recorded: null).</summary>
    public double? ValMacroF1 { get; init; }
    /// <summary>Val confusion matrix, rows the true class, columns the predicted one (files from before it was recorded: null).</summary>
    public int[][]? ValConfusion { get; init; }
    public required string DatasetSha256 { get; init; }
    /// <summary>
    /// How the weights are stored: <see cref="ClassifierWeights.Float32"/> (TorchSharp's own format; every file from
    /// before the choice) or <see cref="ClassifierWeights.Float16"/> (half the bytes; the val figures above were
    /// measured with the rounded weights).
    /// </summary>
    public string Weights { get; init; } = ClassifierWeights.Float32;
    /// <summary>
    /// Whether every prediction averages the image and its mirror (<see cref="ClassifierConfig.MirrorAveraging"/>); the
    /// val figures above were measured that way. Files from before the choice: false.
    /// </summary>
    public bool MirrorAveraging { get; init; }
}

/// <summary>The precisions a classifier file stores its weights in.</summary>
public static class ClassifierWeights
{
    public const string Float32 = "float32";
    public const string Float16 = "float16";
    public static readonly IReadOnlyList<string> All = [Float32, Float16];

    /// <summary>
    /// A copy of <paramref name="net"/> holding exactly what a float16 file of it would load as: every parameter rounded
    /// to half precision and widened back; buffers (normalisation statistics, counts) as they are.
    /// </summary>
    public static ClassifierNet RoundedToFloat16(ClassifierNet net, string backbone, int[] widths)
    {
        var copy = ClassifierBackbone.Create(backbone, widths, net.Classes);
        using var _ = TorchSharp.torch.no_grad();
        var source = net.state_dict();
        var halved = HalvedNames(copy);
        foreach (var (name, target) in copy.state_dict())
        {
            using var rounded = halved.Contains(name) ? source[name].to(TorchSharp.torch.ScalarType.Float16).to(target.dtype) : source[name].clone();
            target.copy_(rounded);
        }
        return copy;
    }

    /// <summary>
    /// The tensors a float16 file halves: the floating parameters. Buffers stay as they are: a batch norm's running
    /// variance behind the ImageNet stem (inputs on the 0–255 scale) exceeds float16's 65,504 and would become infinite.
    /// </summary>
    private static HashSet<string> HalvedNames(ClassifierNet net) =>
        net.named_parameters().Where(p => p.parameter.is_floating_point()).Select(p => p.name).ToHashSet();

    /// <summary>Writes the state in order, names first, parameters as float16 (TorchSharp's tensor encoding), buffers as they are.</summary>
    internal static void WriteFloat16(BinaryWriter writer, ClassifierNet net)
    {
        var state = net.state_dict();
        var halved = HalvedNames(net);
        writer.Write(state.Count);
        foreach (var (name, tensor) in state)
        {
            writer.Write(name);
            if (halved.Contains(name))
            {
                using var half = tensor.to(TorchSharp.torch.ScalarType.Float16);
                half.Save(writer);
            }
            else tensor.Save(writer);
        }
    }

    /// <summary>Reads what <see cref="WriteFloat16"/> wrote into <paramref name="net"/>: the same names, shapes and types, or an error.</summary>
    internal static void ReadFloat16(BinaryReader reader, ClassifierNet net)
    {
        var state = net.state_dict();
        var halved = HalvedNames(net);
        int count = reader.ReadInt32();
        if (count != state.Count) throw new InvalidDataException($"holds {count} tensors, the {net.GetName()} has {state.Count}");
        using var _ = TorchSharp.torch.no_grad();
        var seen = new HashSet<string>();
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            if (!state.TryGetValue(name, out var target)) throw new InvalidDataException($"holds '{name}', which the {net.GetName()} has not");
            if (!seen.Add(name)) throw new InvalidDataException($"holds '{name}' twice");
            using var stored = TorchSharp.torch.Tensor.Load(reader);
            var expected = halved.Contains(name) ? TorchSharp.torch.ScalarType.Float16 : target.dtype;
            if (stored.dtype != expected || !stored.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"'{name}' is {stored.dtype} [{string.Join(",", stored.shape)}], the {net.GetName()} needs {expected} [{string.Join(",", target.shape)}]");
            target.copy_(stored); // copy_ widens float16 to the network's float32
        }
    }
}

/// <summary>A classifier file: magic, JSON header, weights (TorchSharp's float32 format, or float16 tensors by name); written atomically.</summary>
public static class ClassifierFile
{
    private static readonly byte[] Magic = "KNEECLS1"u8.ToArray();

    public static void Save(string path, ClassifierHeader header, ClassifierNet net) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
            writer.Write(json.Length);
            writer.Write(json);
            if (header.Weights == ClassifierWeights.Float16) ClassifierWeights.WriteFloat16(writer, net);
            else net.save(writer);
        });

    /// <summary>
    /// What a classifier file is, without its weights, for the checks a command makes before any work: refuses a file
    /// that is not a classifier, or whose target or input size (16..512) is not one this program makes.
    /// </summary>
    public static ClassifierHeader ReadHeader(string path)
    {
        var (header, net) = Load(path);
        net.Dispose();
        return header;
    }

    /// <summary>Refuses <paramref name="path"/> (given as <paramref name="option"/>) unless it predicts <paramref name="target"/>.</summary>
    public static void RequireTarget(string? path, string option, string target)
    {
        if (path is null) return;
        var header = ReadHeader(path);
        if (header.Target != target)
            throw new ArgumentException($"{path}: {option} needs a {target} classifier, but this one predicts the knee {header.Target} (train-classifier --target {target} makes one)");
    }

    public static (ClassifierHeader Header, ClassifierNet Net) Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: classifier file not found", path);
        KneeOnnx.Validation.FileTypes.RequireRegularInput(path, "the classifier");
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a KneeOnnx classifier");
            int length = reader.ReadInt32();
            if (length <= 0 || length > 1 << 20) throw new InvalidDataException($"{path}: corrupt classifier header");
            var header = JsonSerializer.Deserialize<ClassifierHeader>(reader.ReadBytes(length)) ?? throw new InvalidDataException($"{path}: empty classifier header");
            if (!ClassifierTarget.All.Contains(header.Target))
                throw new InvalidDataException($"{path}: classifier target '{header.Target}' is not one of {string.Join(", ", ClassifierTarget.All)}");
            if (header.ImageSize is < 16 or > 512)
                throw new InvalidDataException($"{path}: classifier input size {header.ImageSize} is outside 16..512");
            if (!ClassifierBackbone.All.Contains(header.Backbone))
                throw new InvalidDataException($"{path}: classifier backbone '{header.Backbone}' is not one of {string.Join(", ", ClassifierBackbone.All)}");
            if (!ClassifierWeights.All.Contains(header.Weights))
                throw new InvalidDataException($"{path}: classifier weights stored as '{header.Weights}', not one of {string.Join(", ", ClassifierWeights.All)}");
            if (header.MirrorAveraging && header.Target == ClassifierTarget.Side)
                throw new InvalidDataException($"{path}: a side classifier cannot average a knee with its mirror (the mirror is the other side)");
            var net = ClassifierBackbone.Create(header.Backbone, header.Widths, header.ClassCount);
            try
            {
                if (header.Weights == ClassifierWeights.Float16) ClassifierWeights.ReadFloat16(reader, net);
                else net.load(reader, strict: true);
            }
            catch (InvalidDataException e)
            {
                net.Dispose();
                throw new InvalidDataException($"{path}: corrupt classifier weights ({e.Message})", e);
            }
            catch
            {
                net.Dispose();
                throw;
            }
            return (header, net);
        }
        catch (Exception e) when (e is not (InvalidDataException or OutOfMemoryException))
        {
            // Whatever TorchSharp's reader throws on damaged weights, the file is what the user needs to hear about.
            throw new InvalidDataException($"{path}: truncated or corrupt classifier ({e.Message.Split('\n')[0].Trim()})", e);
        }
    }
}
