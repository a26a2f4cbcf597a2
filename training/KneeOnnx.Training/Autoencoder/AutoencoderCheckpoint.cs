using System.Text;
using System.Text.Json;
using KneeOnnx.IO;
using KneeOnnx.Training.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>The part of an autoencoder checkpoint that is not tensors.</summary>
public sealed record AutoencoderState
{
    public int FormatVersion { get; init; } = AutoencoderCheckpoint.FormatVersion;
    public required long Step { get; init; }
    public required double ElapsedSeconds { get; init; }
    public required string DatasetSha256 { get; init; }
    public required AutoencoderTrainConfig Train { get; init; }
    public required AutoencoderConfig Model { get; init; }
}

/// <summary>
/// One file holding everything an autoencoder run needs to continue exactly: header (JSON), autoencoder, its weight
/// average when the run keeps one (format 2; <see cref="AutoencoderTrainConfig.EmaDecay"/> &gt; 0), discriminator and both
/// optimisers; written atomically with the length + SHA-256 footer the U-Net's checkpoints carry, verified on
/// every read. Random streams derive from (seed, step), so no generator state is stored.
/// </summary>
public static class AutoencoderCheckpoint
{
    public const int FormatVersion = 2;
    /// <summary>Format 1 is format 2 without the weight average.</summary>
    private static readonly int[] ReadableVersions = [1, FormatVersion];
    public const string FileName = "autoencoder.ckpt";
    private static readonly byte[] Magic = "KNEEAECK"u8.ToArray();

    public static string Locate(string runDirOrFile) =>
        Directory.Exists(runDirOrFile) ? Path.Combine(runDirOrFile, FileName) : runDirOrFile;

    public static void Write(string path, AutoencoderState state, KneeAutoencoder model, KneeAutoencoder? average, PatchDiscriminator critic, optim.Optimizer modelOptimizer, optim.Optimizer criticOptimizer)
    {
        if ((average is not null) != HasAverage(state))
            throw new ArgumentException($"the run's --ema-decay is {state.Train.EmaDecay} but a weight average was {(average is null ? "not " : "")}given");
        // Format 1 where there is no average, so builds from before the average can still resume such a run.
        state = state with { FormatVersion = average is null ? 1 : FormatVersion };
        AtomicFile.Write(path, file =>
        {
            using var stream = new HashingStream(file);
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                byte[] header = JsonSerializer.SerializeToUtf8Bytes(state, Checkpoint.Json);
                writer.Write(header.Length);
                writer.Write(header);
                model.save(writer);
                average?.save(writer);
                critic.save(writer);
                ((TorchSharp.Modules.OptimizerHelper)modelOptimizer).save_state_dict(writer);
                ((TorchSharp.Modules.OptimizerHelper)criticOptimizer).save_state_dict(writer);
                writer.Flush();
            }
            CheckpointFooter.Write(file, stream.Length, stream.Hash());
        });
    }

    public static AutoencoderState ReadState(string path)
    {
        using var reader = Open(path);
        return ReadHeader(reader, path);
    }

    /// <summary>Whether the checkpoint holds a weight average after the live weights.</summary>
    public static bool HasAverage(AutoencoderState state) => state.Train.EmaDecay > 0;

    /// <summary>
    /// The trained autoencoder alone, built from the checkpoint's own configuration: its weight average when the run
    /// keeps one and <paramref name="live"/> is false (what the export writes), else the live weights.
    /// </summary>
    public static (AutoencoderState State, KneeAutoencoder Model) LoadModel(string path, bool live = false)
    {
        using var reader = Open(path);
        var state = ReadHeader(reader, path);
        var model = new KneeAutoencoder(state.Model);
        try
        {
            model.load(reader, strict: true);
            // The average has the live network's layout, so loading it again over the same module replaces every weight.
            if (!live && HasAverage(state)) model.load(reader, strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidDataException($"{path}: weights do not match the checkpoint's own {state.Model.Preset} configuration ({e.Message.Split('\n')[0]})", e);
        }
        model.eval();
        return (state, model);
    }

    /// <summary>Restores every part; returns the state and whether <paramref name="average"/> was filled from the file (a run that starts its average on resume has none yet).</summary>
    public static (AutoencoderState State, bool AverageRestored) Restore(string path, KneeAutoencoder model, KneeAutoencoder? average, PatchDiscriminator critic, optim.Optimizer modelOptimizer, optim.Optimizer criticOptimizer)
    {
        using var reader = Open(path);
        var state = ReadHeader(reader, path);
        try
        {
            model.load(reader, strict: true);
            if (HasAverage(state))
            {
                if (average is null) throw new InvalidDataException($"{path}: the checkpoint holds a weight average but none was given to restore it into");
                average.load(reader, strict: true);
            }
            critic.load(reader, strict: true);
            ((TorchSharp.Modules.OptimizerHelper)modelOptimizer).load_state_dict(reader);
            ((TorchSharp.Modules.OptimizerHelper)criticOptimizer).load_state_dict(reader);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or InvalidDataException))
        {
            throw new InvalidDataException($"{path}: truncated or corrupt autoencoder checkpoint ({e.Message.Split('\n')[0]})", e);
        }
        return (state, HasAverage(state));
    }

    private static BinaryReader Open(string path) => CheckpointFooter.OpenVerified(path, "autoencoder checkpoint");

    private static AutoencoderState ReadHeader(BinaryReader reader, string path)
    {
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException($"{path}: not a KneeOnnx autoencoder checkpoint");
            int length = reader.ReadInt32();
            if (length <= 0 || length > 1 << 20) throw new InvalidDataException($"{path}: corrupt autoencoder checkpoint header");
            var state = JsonSerializer.Deserialize<AutoencoderState>(reader.ReadBytes(length), Checkpoint.Json)
                ?? throw new InvalidDataException($"{path}: empty autoencoder checkpoint header");
            if (!ReadableVersions.Contains(state.FormatVersion))
                throw new InvalidDataException($"{path}: autoencoder checkpoint format {state.FormatVersion} is not supported (expected {string.Join(" or ", ReadableVersions)})");
            if (state.FormatVersion < 2 && HasAverage(state))
                throw new InvalidDataException($"{path}: a format-{state.FormatVersion} autoencoder checkpoint cannot hold a weight average");
            return state;
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: truncated or corrupt autoencoder checkpoint ({e.Message.Split('\n')[0]})", e);
        }
    }
}
