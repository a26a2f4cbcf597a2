using System.Security.Cryptography;
using System.Text;
using KneeOnnx.IO;
using KneeOnnx.Training.Data;

namespace KneeOnnx.Training.Evaluation;

/// <summary>
/// ResNet-18 features of a whole image folder, kept on disk keyed by the folder's content hash (names and bytes) and
/// the analysis side: the 5,778 training images cost minutes to featurise and never change between evaluations.
/// Sets loaded from memory or cut by --limit (hash "memory") are never cached.
/// </summary>
public static class FeatureCache
{
    private const string Version = "rn18-v1";

    public static string DefaultDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "kneeonnx", "features");
    }

    public static float[][] GetOrCompute(string? directory, KneeDataset set, int side, Func<float[][]> compute, TextWriter log)
    {
        if (directory is null || set.Sha256 == "memory" || set.Count == 0) return compute();
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Version}|{set.Sha256}|{side}")))[..32];
        string path = Path.Combine(directory, key + ".f32");
        if (TryRead(path, set.Count) is { } cached)
        {
            log.WriteLine($"  ResNet-18 features of {set.Count} images from the cache ({path})");
            return cached;
        }
        var features = compute();
        Directory.CreateDirectory(directory);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(features.Length);
            writer.Write(ResNet18Features.Dimension);
            foreach (var f in features)
                foreach (var v in f) writer.Write(v);
        });
        return features;
    }

    /// <summary>The cached features, or null when absent, of another count, or torn: then they are computed again.</summary>
    private static float[][]? TryRead(string path, int count)
    {
        if (!File.Exists(path)) return null;
        long expected = 8 + (long)count * ResNet18Features.Dimension * sizeof(float);
        if (new FileInfo(path).Length != expected) return null;
        using var reader = new BinaryReader(File.OpenRead(path));
        if (reader.ReadInt32() != count || reader.ReadInt32() != ResNet18Features.Dimension) return null;
        var result = new float[count][];
        for (int i = 0; i < count; i++)
        {
            result[i] = new float[ResNet18Features.Dimension];
            for (int d = 0; d < result[i].Length; d++) result[i][d] = reader.ReadSingle();
        }
        return result;
    }
}
