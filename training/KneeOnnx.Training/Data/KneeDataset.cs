using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using KneeOnnx.Imaging;
using KneeOnnx.Training.LibTorch;

namespace KneeOnnx.Training.Data;

/// <summary>What to do with a PNG that cannot be decoded.</summary>
public enum UnreadablePolicy
{
    /// <summary>Stop with an error naming the file (default: silent data loss is worse than a stop).</summary>
    Fail,
    /// <summary>Leave it out and report how many were left out.</summary>
    Skip,
}

/// <summary>
/// One split of a knee dataset laid out as <c>&lt;root&gt;/&lt;split&gt;/&lt;grade 0..4&gt;/*.png</c>, decoded once,
/// resized to the model's side and scaled to [-1, 1], held in memory.
/// </summary>
public sealed class KneeDataset : ITrainingSet
{
    public string Directory { get; }
    public int ImageSize { get; }
    public IReadOnlyList<float[]> Images { get; }
    public IReadOnlyList<int> Grades { get; }
    /// <summary>Each image's knee side from its file name (<see cref="KneeSides"/>), <see cref="KneeSides.None"/> when the name states none.</summary>
    public IReadOnlyList<int> Sides { get; }
    public IReadOnlyList<string> Files { get; }
    public IReadOnlyList<string> SkippedFiles { get; }
    public int IgnoredNonPngFiles { get; }
    /// <summary>Images that were colour, 16-bit, palette or not square, and were converted to 8-bit gray squares.</summary>
    public int ConvertedImages { get; }
    /// <summary>SHA-256 over every used file's relative path and bytes, in order: identifies the training data in provenance.</summary>
    public string Sha256 { get; }

    public int Count => Images.Count;
    public int SampleChannels => 1;
    public int SampleSide => ImageSize;

    public void CopySample(int index, bool flipped, Span<float> target)
    {
        var source = Images[index].AsSpan();
        int side = ImageSize;
        if (!flipped)
        {
            source.CopyTo(target);
            return;
        }
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
                target[y * side + x] = source[y * side + side - 1 - x];
    }

    private KneeDataset(string directory, int size, float[][] images, int[] grades, string[] files, string[] skipped, int ignored, string sha, int converted = 0)
    {
        ConvertedImages = converted;
        Directory = directory;
        ImageSize = size;
        Images = images;
        Grades = grades;
        Files = files;
        Sides = files.Select(KneeSides.FromFileName).ToArray();
        SkippedFiles = skipped;
        IgnoredNonPngFiles = ignored;
        Sha256 = sha;
    }

    /// <summary>A dataset from images already in model space (for tests and callers that decode themselves).</summary>
    internal static KneeDataset FromMemory(int imageSize, float[][] images, int[] grades, string name = "memory", int[]? sides = null) =>
        new(name, imageSize, images, grades,
            images.Select((_, i) => $"{name}/{grades[i]}/{i}{(sides is null ? "" : KneeSides.Label(sides[i]))}.png").ToArray(), [], 0, "memory");

    /// <summary>The images at <paramref name="indexes"/> with their grades and files (so their sides); hashed "memory" like any set that is not a whole folder.</summary>
    public KneeDataset Subset(IReadOnlyList<int> indexes) =>
        new(Directory, ImageSize, indexes.Select(i => Images[i]).ToArray(), indexes.Select(i => Grades[i]).ToArray(),
            indexes.Select(i => Files[i]).ToArray(), SkippedFiles.ToArray(), IgnoredNonPngFiles, "memory", ConvertedImages);

    /// <summary>The first file whose name states no side, or null when every image has one (side conditioning needs them all).</summary>
    public string? FirstFileWithoutSide() => Enumerable.Range(0, Count).Where(i => Sides[i] == KneeSides.None).Select(i => Files[i]).FirstOrDefault();

    public int[] CountPerGrade()
    {
        var counts = new int[KlGrades.Count];
        foreach (int g in Grades) counts[g]++;
        return counts;
    }

    /// <summary>Loads <paramref name="root"/>/<paramref name="split"/>; every grade folder 0..4 must exist and hold PNGs
    /// unless <paramref name="everyGrade"/> is false (a generated set asked for some grades only), when at least one must.</summary>
    public static KneeDataset Load(string root, string split, int imageSize, UnreadablePolicy policy = UnreadablePolicy.Fail, GrayImageReader? reader = null,
                                   bool everyGrade = true)
    {
        reader ??= new GrayImageReader();
        if (!System.IO.Directory.Exists(root))
            throw new DatasetException($"{root}: dataset folder not found");
        string splitDir = Path.Combine(root, split);
        if (!System.IO.Directory.Exists(splitDir))
            throw new DatasetException($"{splitDir}: split folder not found (expected {root}/{split}/<grade>/*.png)");

        var entries = new List<(string Path, int Grade)>();
        int ignored = 0;
        for (int grade = 0; grade < KlGrades.Count; grade++)
        {
            string gradeDir = Path.Combine(splitDir, grade.ToString());
            if (!System.IO.Directory.Exists(gradeDir))
            {
                if (!everyGrade) continue;
                throw new DatasetException($"{gradeDir}: grade folder missing (expected folders 0..{KlGrades.Count - 1} under {splitDir})");
            }
            var files = System.IO.Directory.EnumerateFiles(gradeDir)
                .Where(f => !Path.GetFileName(f).StartsWith('.'))
                .ToList();
            var pngs = files.Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
            ignored += files.Count - pngs.Count;
            if (pngs.Count == 0 && everyGrade)
                throw new DatasetException($"{gradeDir}: no PNG images in grade folder");
            entries.AddRange(pngs.Select(p => (p, grade)));
        }
        if (entries.Count == 0)
            throw new DatasetException($"{splitDir}: no PNG images in any grade folder 0..{KlGrades.Count - 1}");

        var images = new float[entries.Count][];
        var hashes = new byte[entries.Count][];
        var wasConverted = new bool[entries.Count];
        var failures = new ConcurrentDictionary<int, InvalidImageException>();
        // Checked before any file is opened: reading a named pipe blocks until a writer comes, a device never ends.
        foreach (var (i, special) in SpecialDataFiles.Find(entries.Select(e => e.Path)))
        {
            if (policy == UnreadablePolicy.Fail)
                throw new DatasetException(special.Message + " (--skip-unreadable leaves such files out)", special);
            failures[i] = special;
        }
        Parallel.For(0, entries.Count, HostParallelism.Options, i =>
        {
            if (failures.ContainsKey(i)) return;
            try
            {
                byte[] bytes = ReadBytes(entries[i].Path);
                hashes[i] = SHA256.HashData(bytes);
                images[i] = reader.ReadScaled(bytes, entries[i].Path, imageSize, out wasConverted[i]);
            }
            catch (InvalidImageException e)
            {
                failures[i] = e;
            }
        });

        if (failures.Count > 0 && policy == UnreadablePolicy.Fail)
        {
            var first = failures.OrderBy(f => f.Key).First().Value;
            string more = failures.Count > 1 ? $" (and {failures.Count - 1} more unreadable; --skip-unreadable leaves them out)" : " (--skip-unreadable leaves such files out)";
            throw new DatasetException(first.Message + more, first);
        }

        using var total = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var kept = Enumerable.Range(0, entries.Count).Where(i => !failures.ContainsKey(i)).ToArray();
        foreach (int i in kept)
        {
            total.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(root, entries[i].Path).Replace('\\', '/') + "\n"));
            total.AppendData(hashes[i]);
        }
        return new KneeDataset(
            splitDir, imageSize,
            kept.Select(i => images[i]).ToArray(),
            kept.Select(i => entries[i].Grade).ToArray(),
            kept.Select(i => entries[i].Path).ToArray(),
            failures.Keys.Order().Select(i => entries[i].Path).ToArray(),
            ignored,
            Convert.ToHexStringLower(total.GetHashAndReset()),
            kept.Count(i => wasConverted[i]));
    }

    private static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidImageException(path, $"cannot be read ({e.Message})", e);
        }
    }
}
