using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Data;
using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// The training images as the latent U-Net sees them: each image and its mirror encoded once by the exported encoder
/// (scaled latents), kept on disk keyed by the encoder's and the images' hashes, so a changed autoencoder or data set
/// is encoded afresh and training reads small tensors instead of decoding PNGs.
/// </summary>
public sealed class LatentTrainingSet : ITrainingSet
{
    private const string Version = "latents-v1";
    private readonly float[][] _latents;
    private readonly float[][] _mirrored;

    public int Count => _latents.Length;
    public int SampleChannels { get; }
    public int SampleSide { get; }
    public IReadOnlyList<int> Grades { get; }
    public IReadOnlyList<int> Sides { get; }

    private LatentTrainingSet(float[][] latents, float[][] mirrored, int channels, int side, KneeDataset images)
    {
        _latents = latents;
        _mirrored = mirrored;
        SampleChannels = channels;
        SampleSide = side;
        Grades = images.Grades;
        Sides = images.Sides;
    }

    public void CopySample(int index, bool flipped, Span<float> target) => (flipped ? _mirrored : _latents)[index].CopyTo(target);

    public static string DefaultCacheDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "kneeonnx", "latents");
    }

    /// <summary>
    /// The latents of <paramref name="images"/> (at the autoencoder's image size), from the cache or encoded now: by ONNX
    /// Runtime on the CPU, or, given <paramref name="torchDevice"/>, by the encoder's weights in TorchSharp on that device
    /// (a GPU encodes the train split in 3 s where 16 CPU cores took 273 s). The two agree to float rounding on the CPU
    /// (1.9e-6 on the test fixture) and to TF32's on CUDA (about 1e-3 relative), not to the bit, so each writes a cache
    /// file of its own and a run's latents never depend on which encoded first.
    /// </summary>
    public static LatentTrainingSet Encode(KneeDataset images, AutoencoderFiles autoencoder, string? cacheDirectory, TextWriter log, int threads = 0,
        TorchSharp.torch.Device? torchDevice = null)
    {
        if (images.ImageSize != autoencoder.ImageSize)
            throw new ArgumentException($"the images are at {images.ImageSize}², the autoencoder in {autoencoder.Folder} codes {autoencoder.ImageSize}²");
        int values = autoencoder.LatentChannels * autoencoder.LatentSize * autoencoder.LatentSize;
        string? path = cacheDirectory is null || images.Sha256 == "memory" ? null
            : Path.Combine(cacheDirectory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Version}|{autoencoder.EncoderSha256}|{images.Sha256}|{images.Count}" + (torchDevice is null ? "" : $"|torch-{torchDevice.type}".ToLowerInvariant()))))[..32] + ".lat");
        if (path is not null && TryRead(path, images.Count, values) is { } cached)
        {
            log.WriteLine($"latents: {images.Count} images and their mirrors from the cache ({path})");
            return new LatentTrainingSet(cached.Latents, cached.Mirrored, autoencoder.LatentChannels, autoencoder.LatentSize, images);
        }
        var timer = Stopwatch.StartNew();
        var (latents, mirrored) = torchDevice is null ? EncodeAll(images, autoencoder, values, threads) : TorchLatentEncoder.EncodeAll(images, autoencoder, values, torchDevice);
        log.WriteLine($"latents: encoded {images.Count} images and their mirrors to {autoencoder.LatentChannels}×{autoencoder.LatentSize}² in {timer.Elapsed.TotalSeconds:F0}s"
            + (torchDevice is null ? "" : $" with TorchSharp on {torchDevice.type}")
            + (path is null ? "" : $"; cached in {path}"));
        if (path is not null)
        {
            Directory.CreateDirectory(cacheDirectory!);
            AtomicFile.Write(path, stream =>
            {
                using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
                writer.Write(images.Count);
                writer.Write(values);
                foreach (var set in new[] { latents, mirrored })
                    foreach (var latent in set)
                        foreach (var v in latent) writer.Write(v);
            });
        }
        return new LatentTrainingSet(latents, mirrored, autoencoder.LatentChannels, autoencoder.LatentSize, images);
    }

    private static (float[][] Latents, float[][] Mirrored) EncodeAll(KneeDataset images, AutoencoderFiles autoencoder, int values, int threads)
    {
        using var options = new SessionOptions { IntraOpNumThreads = Validation.ThreadCount.Resolve(threads), LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var session = new InferenceSession(autoencoder.EncoderPath, options);
        using var run = new RunOptions();
        int side = images.ImageSize, area = side * side, count = images.Count;
        var latents = new float[count][];
        var mirrored = new float[count][];
        var batch = new float[16 * area];
        foreach (bool mirror in new[] { false, true })
            for (int start = 0; start < count; start += 16)
            {
                int n = Math.Min(16, count - start);
                for (int i = 0; i < n; i++) images.CopySample(start + i, mirror, batch.AsSpan(i * area, area));
                using var input = OrtValue.CreateTensorValueFromMemory(batch, [16, 1, side, side]);
                using var output = session.Run(run, [AutoencoderContract.ImageName], [input], [AutoencoderContract.LatentName]);
                var result = output[0].GetTensorDataAsSpan<float>();
                for (int i = 0; i < n; i++) (mirror ? mirrored : latents)[start + i] = result.Slice(i * values, values).ToArray();
            }
        return (latents, mirrored);
    }

    /// <summary>The cached latents, or null when absent, of another shape or torn: then they are encoded again.</summary>
    private static (float[][] Latents, float[][] Mirrored)? TryRead(string path, int count, int values)
    {
        if (!File.Exists(path) || new FileInfo(path).Length != 8 + 2L * count * values * sizeof(float)) return null;
        using var reader = new BinaryReader(File.OpenRead(path));
        if (reader.ReadInt32() != count || reader.ReadInt32() != values) return null;
        float[][] ReadSet()
        {
            var set = new float[count][];
            var bytes = new byte[values * sizeof(float)];
            for (int i = 0; i < count; i++)
            {
                reader.BaseStream.ReadExactly(bytes);
                set[i] = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            }
            return set;
        }
        return (ReadSet(), ReadSet());
    }
}
