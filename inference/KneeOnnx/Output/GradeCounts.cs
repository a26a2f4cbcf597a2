using System.Globalization;

namespace KneeOnnx.Output;

/// <summary>
/// How many images a generate request asks for, grade by grade (in the order of its --grades): one count for every
/// grade, one count per grade, or what brings a real ImageFolder set (<c>DIR/&lt;grade&gt;/*.png</c>) up to a total per
/// grade — the usual way to balance a KL data set whose minority grades are a few percent of it.
/// </summary>
public static class GradeCounts
{
    /// <summary>"N" (every grade) or "N0,N1,…" (one per grade of <paramref name="grades"/>; 0 leaves a grade out).</summary>
    public static int[] Parse(string text, IReadOnlyList<int> grades)
    {
        int[] counts = ParseList(text);
        if (counts.Length == 1) return grades.Select(_ => counts[0]).ToArray();
        if (counts.Length != grades.Count)
            throw new ArgumentException($"--per-grade lists {counts.Length} counts for {grades.Count} grades ({string.Join(",", grades)}); give one count, or one per grade");
        return counts;
    }

    /// <summary>The counts as written, each checked — what can be said of them before the model's grades are known.</summary>
    public static int[] ParseList(string text)
    {
        int[] counts = text.Split(',', StringSplitOptions.TrimEntries).Select(ParseCount).ToArray();
        if (counts.Length == 1 && counts[0] < 1) throw new ArgumentException($"--per-grade must be at least 1, got {counts[0]}");
        if (counts.Any(c => c < 0) || counts.All(c => c == 0))
            throw new ArgumentException($"--per-grade '{text}': each count must be at least 0 and one at least 1");
        return counts;
    }

    private static int ParseCount(string part) =>
        int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n)
            ? n : throw new ArgumentException($"--per-grade '{part}' is not a whole number");

    /// <summary>The real images of each grade in <paramref name="realRoot"/>/&lt;grade&gt;/ (PNG files, as the training loader reads them).</summary>
    public static int[] CountReal(string realRoot, IReadOnlyList<int> grades)
    {
        if (!Directory.Exists(realRoot)) throw new ArgumentException($"{realRoot}: --real folder not found");
        return grades.Select(g =>
        {
            string dir = Path.Combine(realRoot, g.ToString(CultureInfo.InvariantCulture));
            if (!Directory.Exists(dir)) throw new ArgumentException($"{dir}: --real has no folder for grade {g} (expected {realRoot}/<grade>/*.png)");
            return Directory.EnumerateFiles(dir).Count(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase));
        }).ToArray();
    }

    /// <summary>
    /// Per grade, the images to make so that real + generated reaches <paramref name="total"/>, split evenly over the
    /// sides asked for (rounded up, so no grade falls short); a grade already at or above the total gets none.
    /// </summary>
    public static int[] FillTo(int total, IReadOnlyList<int> realCounts, int sides)
    {
        if (total < 1) throw new ArgumentException($"--fill-to must be at least 1, got {total}");
        if (sides < 1) throw new ArgumentOutOfRangeException(nameof(sides));
        return realCounts.Select(real => (Math.Max(0, total - real) + sides - 1) / sides).ToArray();
    }
}
