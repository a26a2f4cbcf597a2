using System.Text;

namespace KneeOnnx.Validation;

/// <summary>What an existing file holds, judged from its first bytes: enough to refuse replacing, say, a checkpoint by a PNG.</summary>
public enum FileKind
{
    Empty,
    Png,
    /// <summary>A protobuf whose first field is ONNX's ir_version (tag 0x08), as every ONNX writer puts first.</summary>
    Onnx,
    /// <summary>A KneeOnnx training checkpoint ("KNEECKPT").</summary>
    Checkpoint,
    /// <summary>A KneeOnnx classifier ("KNEECLS1").</summary>
    Classifier,
    Json,
    Text,
    OtherBinary,
}

public static class FileKinds
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    // The training side's magics, repeated here so the inference library needs nothing from it; FileKindTests pin them.
    private static readonly byte[] CheckpointMagic = "KNEECKPT"u8.ToArray();
    private static readonly byte[] ClassifierMagic = "KNEECLS1"u8.ToArray();
    /// <summary>A classifier run's checkpoint (train-classifier --checkpoint): a checkpoint like the U-Net's, to every guard.</summary>
    private static readonly byte[] ClassifierCheckpointMagic = "KNEECLR1"u8.ToArray();

    public static FileKind Sniff(string path)
    {
        var head = new byte[4096];
        int n;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var bytes = head.AsSpan(0, n);
        if (n == 0) return FileKind.Empty;
        if (bytes.StartsWith(PngSignature)) return FileKind.Png;
        if (bytes.StartsWith(CheckpointMagic) || bytes.StartsWith(ClassifierCheckpointMagic)) return FileKind.Checkpoint;
        if (bytes.StartsWith(ClassifierMagic)) return FileKind.Classifier;
        if (bytes[0] == 0x08) return FileKind.Onnx;
        if (bytes.Contains((byte)0)) return FileKind.OtherBinary;
        string text = Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        return text.StartsWith('{') || text.StartsWith('[') ? FileKind.Json : FileKind.Text;
    }

    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Png => "a PNG image",
        FileKind.Onnx => "an ONNX model",
        FileKind.Checkpoint => "a KneeOnnx checkpoint",
        FileKind.Classifier => "a KneeOnnx classifier",
        FileKind.Json => "a JSON file",
        FileKind.Text => "a text file",
        FileKind.Empty => "an empty file",
        _ => "a binary file",
    };
}
