using System.Text;
using System.Text.Json;
using KneeOnnx.IO;

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
    public required string DatasetSha256 { get; init; }
}

/// <summary>A classifier file: magic, JSON header, TorchSharp weights; written atomically.</summary>
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
            net.save(writer);
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
            var net = ClassifierBackbone.Create(header.Backbone, header.Widths, header.ClassCount);
            net.load(reader, strict: true);
            return (header, net);
        }
        catch (Exception e) when (e is not (InvalidDataException or OutOfMemoryException))
        {
            // Whatever TorchSharp's reader throws on damaged weights, the file is what the user needs to hear about.
            throw new InvalidDataException($"{path}: truncated or corrupt classifier ({e.Message.Split('\n')[0].Trim()})", e);
        }
    }
}
