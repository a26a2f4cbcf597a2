using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KneeOnnx.IO;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Runs;
using TorchSharp;

namespace KneeOnnx.Training.Classifier;

/// <summary>Where a classifier run keeps its state between epochs, and how long it may run.</summary>
public sealed record ClassifierRunOptions
{
    /// <summary>The state file written after every epoch (null: none, and the run cannot be continued).</summary>
    public string? Checkpoint { get; init; }
    /// <summary>Continue from <see cref="Checkpoint"/> when it exists (a finished run returns its result at once).</summary>
    public bool Resume { get; init; }
    /// <summary>Stop, with the checkpoint written, before an epoch that would end after this time.</summary>
    public DateTime? StopBy { get; init; }
    /// <summary>
    /// The last epoch's duration, shared by every run given these options (copies made with <c>with</c> share it too): a
    /// classifier that has not timed an epoch yet judges by the previous one's, and is not started when it cannot finish one.
    /// </summary>
    public EpochClock Clock { get; init; } = new();
}

/// <summary>How long the last epoch took (see <see cref="ClassifierRunOptions.Clock"/>).</summary>
public sealed class EpochClock
{
    public TimeSpan? Last { get; set; }
}

/// <summary>What a classifier run ended with: the best epoch so far, whether all epochs were run, and its training time
/// (<paramref name="Seconds"/>: every invocation's, as the checkpoint has counted them, not only this one's).</summary>
public sealed record ClassifierOutcome(ClassifierHeader? Best, bool Completed, int EpochsDone, TimeSpan? EpochTime, double Seconds);

/// <summary>The JSON part of a classifier checkpoint.</summary>
public sealed record ClassifierRunState
{
    /// <summary>The run's settings as JSON, threads left out (they change speed, not results).</summary>
    public required string Config { get; init; }
    /// <summary>SHA-256 of the training and val pixels and labels: a resumed run must see the same images.</summary>
    public required string DataSha256 { get; init; }
    public required int EpochsDone { get; init; }
    public ClassifierHeader? Best { get; init; }
    public required double Seconds { get; init; }
    public double? EpochSeconds { get; init; }
}

/// <summary>
/// A classifier run in progress, after a whole epoch: its settings and data fingerprint, the best epoch so far, the live
/// weights and the optimiser state, behind the same checksum footer as U-Net checkpoints. Batches come from
/// (seed, step) and dropout is reseeded every epoch, so an epoch boundary holds the whole random state: a resumed run
/// ends with the weights of an uninterrupted one.
/// </summary>
public static class ClassifierCheckpoint
{
    private static readonly byte[] Magic = "KNEECLR1"u8.ToArray();

    public static string ConfigKey(ClassifierConfig config) => JsonSerializer.Serialize(config with { Threads = 0 });

    /// <summary>
    /// Whether a checkpoint's recorded settings are <paramref name="config"/>'s. The record is read back into a config
    /// first, so a setting added since it was written takes its default instead of making every older run look changed.
    /// </summary>
    public static bool SameSettings(string recorded, ClassifierConfig config)
    {
        try
        {
            return JsonSerializer.Deserialize<ClassifierConfig>(recorded) is { } stored && ConfigKey(stored) == ConfigKey(config);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Pixels and labels of both sets, in order: what the run learns from and is selected on.</summary>
    public static string DataSha256(KneeDataset train, IReadOnlyList<int> trainLabels, KneeDataset val, IReadOnlyList<int> valLabels)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (set, labels) in new[] { (train, trainLabels), (val, valLabels) })
        {
            sha.AppendData(BitConverter.GetBytes(set.Count));
            for (int i = 0; i < set.Count; i++)
            {
                sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(set.Images[i].AsSpan()));
                sha.AppendData(BitConverter.GetBytes(labels[i]));
            }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public static void Write(string path, ClassifierRunState state, ClassifierNet net, torch.optim.Optimizer optimizer)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, file =>
        {
            using var stream = new HashingStream(file);
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(state);
                writer.Write(json.Length);
                writer.Write(json);
                net.save(writer);
                ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
            }
            CheckpointFooter.Write(file, stream.Length, stream.Hash());
        });
    }

    /// <summary>The state without the tensors (to check settings before anything is built).</summary>
    public static ClassifierRunState ReadState(string path)
    {
        using var reader = Open(path);
        return Header(reader, path);
    }

    public static ClassifierRunState Restore(string path, ClassifierNet net, torch.optim.Optimizer optimizer)
    {
        using var reader = Open(path);
        var state = Header(reader, path);
        try
        {
            net.load(reader, strict: true);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: truncated or corrupt classifier checkpoint ({e.Message.Split('\n')[0].Trim()})", e);
        }
        return state;
    }

    private static BinaryReader Open(string path) => CheckpointFooter.OpenVerified(path, "classifier checkpoint");

    private static ClassifierRunState Header(BinaryReader reader, string path)
    {
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a KneeOnnx classifier checkpoint");
        int length = reader.ReadInt32();
        if (length <= 0 || length > 1 << 20) throw new InvalidDataException($"{path}: corrupt classifier checkpoint header");
        return JsonSerializer.Deserialize<ClassifierRunState>(reader.ReadBytes(length)) ?? throw new InvalidDataException($"{path}: empty classifier checkpoint header");
    }
}
