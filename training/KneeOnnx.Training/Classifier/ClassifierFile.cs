using System.Text;
using System.Text.Json;
using KneeOnnx.IO;

namespace KneeOnnx.Training.Classifier;

/// <summary>What a saved classifier is: its input size, widths, and the val figures it was selected on.</summary>
public sealed record ClassifierHeader
{
    public required int ImageSize { get; init; }
    public required int[] Widths { get; init; }
    public required int Epoch { get; init; }
    public required double ValAccuracy { get; init; }
    public required double ValQuadraticKappa { get; init; }
    public required double ValMeanAbsoluteError { get; init; }
    public required double[] ValRecall { get; init; }
    public required string DatasetSha256 { get; init; }
}

/// <summary>A classifier file: magic, JSON header, TorchSharp weights; written atomically.</summary>
public static class ClassifierFile
{
    private static readonly byte[] Magic = "KNEECLS1"u8.ToArray();

    public static void Save(string path, ClassifierHeader header, KlClassifierNet net) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
            writer.Write(json.Length);
            writer.Write(json);
            net.save(writer);
        });

    public static (ClassifierHeader Header, KlClassifierNet Net) Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: classifier file not found", path);
        using var reader = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a KneeOnnx classifier");
            int length = reader.ReadInt32();
            if (length <= 0 || length > 1 << 20) throw new InvalidDataException($"{path}: corrupt classifier header");
            var header = JsonSerializer.Deserialize<ClassifierHeader>(reader.ReadBytes(length)) ?? throw new InvalidDataException($"{path}: empty classifier header");
            var net = new KlClassifierNet(header.Widths);
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
