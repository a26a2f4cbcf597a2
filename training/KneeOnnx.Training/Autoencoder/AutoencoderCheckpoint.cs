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
/// One file holding everything an autoencoder run needs to continue exactly: header (JSON), autoencoder, discriminator
/// and both optimisers; written atomically with the length + SHA-256 footer the U-Net's checkpoints carry, verified on
/// every read. Random streams derive from (seed, step), so no generator state is stored.
/// </summary>
public static class AutoencoderCheckpoint
{
    public const int FormatVersion = 1;
    public const string FileName = "autoencoder.ckpt";
    private static readonly byte[] Magic = "KNEEAECK"u8.ToArray();

    public static string Locate(string runDirOrFile) =>
        Directory.Exists(runDirOrFile) ? Path.Combine(runDirOrFile, FileName) : runDirOrFile;

    public static void Write(string path, AutoencoderState state, KneeAutoencoder model, PatchDiscriminator critic, optim.Optimizer modelOptimizer, optim.Optimizer criticOptimizer)
    {
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

    /// <summary>The trained autoencoder alone, built from the checkpoint's own configuration.</summary>
    public static (AutoencoderState State, KneeAutoencoder Model) LoadModel(string path)
    {
        using var reader = Open(path);
        var state = ReadHeader(reader, path);
        var model = new KneeAutoencoder(state.Model);
        try
        {
            model.load(reader, strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidDataException($"{path}: weights do not match the checkpoint's own {state.Model.Preset} configuration ({e.Message.Split('\n')[0]})", e);
        }
        model.eval();
        return (state, model);
    }

    public static AutoencoderState Restore(string path, KneeAutoencoder model, PatchDiscriminator critic, optim.Optimizer modelOptimizer, optim.Optimizer criticOptimizer)
    {
        using var reader = Open(path);
        var state = ReadHeader(reader, path);
        try
        {
            model.load(reader, strict: true);
            critic.load(reader, strict: true);
            ((TorchSharp.Modules.OptimizerHelper)modelOptimizer).load_state_dict(reader);
            ((TorchSharp.Modules.OptimizerHelper)criticOptimizer).load_state_dict(reader);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: truncated or corrupt autoencoder checkpoint ({e.Message.Split('\n')[0]})", e);
        }
        return state;
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
            if (state.FormatVersion != FormatVersion)
                throw new InvalidDataException($"{path}: autoencoder checkpoint format {state.FormatVersion} is not supported (expected {FormatVersion})");
            return state;
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: truncated or corrupt autoencoder checkpoint ({e.Message.Split('\n')[0]})", e);
        }
    }
}
