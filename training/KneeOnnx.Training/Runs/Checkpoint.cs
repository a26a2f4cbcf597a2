using System.Text;
using System.Text.Json;
using KneeOnnx.IO;
using KneeOnnx.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Runs;

/// <summary>The part of a checkpoint that is not tensors.</summary>
public sealed record TrainState
{
    public int FormatVersion { get; init; } = Checkpoint.FormatVersion;
    /// <summary>Optimiser steps completed; the next step to run has this index.</summary>
    public required long Step { get; init; }
    public required double ElapsedSeconds { get; init; }
    public required string DatasetSha256 { get; init; }
    public required TrainConfig Train { get; init; }
    public required UNetConfig Model { get; init; }
}

/// <summary>
/// One file holding everything a run needs to continue exactly: state header (JSON), EMA weights, live weights and
/// optimiser state. Random streams are derived from (seed, step), so seed and step are the whole RNG state.
/// Written atomically: an interrupted write leaves the previous checkpoint in place. Since format 2 a footer holds the
/// length and SHA-256 of everything before it, verified on every read, so a truncated or damaged file is refused by
/// every verb in one line naming it (TorchSharp's own reader may otherwise load part of a file, or fail with
/// "read past the end of the stream"). Format 1 files, written before the footer, are still read.
/// </summary>
public static class Checkpoint
{
    public const int FormatVersion = 2;
    /// <summary>The last format without a checksum footer; still accepted.</summary>
    public const int UncheckedFormatVersion = 1;
    public const string FileName = "checkpoint.ckpt";
    private static readonly byte[] Magic = "KNEECKPT"u8.ToArray();

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>RUNDIR → RUNDIR/checkpoint.ckpt; a file path is used as given.</summary>
    public static string Locate(string runDirOrFile) =>
        Directory.Exists(runDirOrFile) ? Path.Combine(runDirOrFile, FileName) : runDirOrFile;

    public static void Write(string path, TrainState state, UNet ema, UNet live, optim.Optimizer optimizer, Action<Stream>? afterHeader = null)
    {
        AtomicFile.Write(path, file =>
        {
            using var stream = new HashingStream(file);
            using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
                WritePayload(writer, stream, state with { FormatVersion = FormatVersion }, ema, live, optimizer, afterHeader);
            CheckpointFooter.Write(file, stream.Length, stream.Hash());
        });
    }

    private static void WritePayload(BinaryWriter writer, Stream stream, TrainState state, UNet ema, UNet live, optim.Optimizer optimizer, Action<Stream>? afterHeader)
    {
        writer.Write(Magic);
        byte[] header = JsonSerializer.SerializeToUtf8Bytes(state, Json);
        writer.Write(header.Length);
        writer.Write(header);
        writer.Flush();
        afterHeader?.Invoke(stream);
        ema.save(writer);
        live.save(writer);
        ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
        writer.Flush();
    }

    public static TrainState ReadState(string path)
    {
        using var reader = Open(path);
        return ReadHeader(reader, path);
    }

    /// <summary>Loads the EMA (default) or live weights into a new model built from the checkpoint's own config.</summary>
    public static (TrainState State, UNet Model) LoadModel(string path, bool raw = false)
    {
        using var reader = Open(path);
        var state = ReadHeader(reader, path);
        UNet model;
        try
        {
            model = new UNet(state.Model);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: the checkpoint's model configuration cannot be built ({FirstLine(e.Message)})", e);
        }
        try
        {
            model.load(reader, strict: true);
            if (raw) model.load(reader, strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidDataException($"{path}: weights do not match the checkpoint's own {state.Model.Preset} configuration ({FirstLine(e.Message)})", e);
        }
        return (state, model);
    }

    /// <summary>Restores a run in progress: EMA, live weights and optimiser state, into objects built for this checkpoint's config.</summary>
    public static TrainState Restore(string path, UNet ema, UNet live, optim.Optimizer optimizer)
    {
        using var reader = Open(path);
        var state = ReadHeader(reader, path);
        try
        {
            ema.load(reader, strict: true);
            live.load(reader, strict: true);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: truncated or corrupt checkpoint ({FirstLine(e.Message)})", e);
        }
        return state;
    }

    /// <summary>Opens a checkpoint whose footer checksum matches (format 2) or that predates the footer (format 1).</summary>
    private static BinaryReader Open(string path)
    {
        if (Directory.Exists(path))
            throw new ArgumentException($"{path}: a folder without {FileName}; give a run folder or a .ckpt file");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: checkpoint not found", path);
        KneeOnnx.Validation.FileTypes.RequireRegularInput(path, "the checkpoint");
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            bool verified = CheckpointFooter.Verify(stream, path);
            stream.Position = 0;
            var reader = new BinaryReader(stream, Encoding.UTF8);
            if (!verified)
            {
                // No footer: only a format-1 file may lack one; anything else was cut short or damaged.
                int version = ReadHeader(reader, path).FormatVersion;
                if (version != UncheckedFormatVersion)
                    throw new InvalidDataException($"{path}: truncated or corrupt checkpoint (its checksum footer is missing)");
                stream.Position = 0;
            }
            return reader;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    private static TrainState ReadHeader(BinaryReader reader, string path)
    {
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException($"{path}: not a KneeOnnx checkpoint");
            int length = reader.ReadInt32();
            if (length <= 0 || length > 1 << 20)
                throw new InvalidDataException($"{path}: corrupt checkpoint header");
            var state = JsonSerializer.Deserialize<TrainState>(reader.ReadBytes(length), Json)
                ?? throw new InvalidDataException($"{path}: empty checkpoint header");
            if (state.FormatVersion != FormatVersion && state.FormatVersion != UncheckedFormatVersion)
                throw new InvalidDataException($"{path}: checkpoint format {state.FormatVersion} is not supported (expected {FormatVersion} or {UncheckedFormatVersion})");
            return state;
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: truncated or corrupt checkpoint ({FirstLine(e.Message)})", e);
        }
    }
}
