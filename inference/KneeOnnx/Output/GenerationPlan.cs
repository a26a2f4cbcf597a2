using KneeOnnx.Generation;

namespace KneeOnnx.Output;

/// <summary>One image to make: its grade, knee side (<see cref="KneeSides"/>; None for grade-only models), its index in the (grade, side) stream, and where it goes.</summary>
public readonly record struct PlannedImage(int Grade, long Index, string RelativePath, int Side = KneeSides.None);

/// <summary>
/// The files a generate request stands for, in a fixed order (grade by grade, side by side, index by index), cut to one
/// shard. Names carry the side, settings and seed, so a different request never mistakes another's files for its own.
/// </summary>
public static class GenerationPlan
{
    /// <param name="sides">the sides to make per grade (<see cref="SideList"/>); null or empty for a grade-only model.</param>
    public static IReadOnlyList<PlannedImage> Build(IReadOnlyList<int> grades, int perGrade, long seed, SamplerSettings settings, Shard shard, IReadOnlyList<int>? sides = null)
    {
        if (perGrade < 1) throw new ArgumentException($"--per-grade must be at least 1, got {perGrade}");
        return Build(grades, grades.Select(_ => perGrade).ToArray(), seed, settings, shard, sides);
    }

    /// <param name="counts">images per grade and side, in the order of <paramref name="grades"/> (<see cref="GradeCounts"/>); 0 leaves a grade out.
    /// Image i of a grade is the same file whatever the other grades' counts, so a request for more extends a folder.</param>
    public static IReadOnlyList<PlannedImage> Build(IReadOnlyList<int> grades, IReadOnlyList<int> counts, long seed, SamplerSettings settings, Shard shard, IReadOnlyList<int>? sides = null)
    {
        if (counts.Count != grades.Count) throw new ArgumentException($"{counts.Count} counts for {grades.Count} grades");
        if (counts.Any(c => c < 0)) throw new ArgumentException($"--per-grade counts must be at least 0, got {string.Join(",", counts)}");
        IReadOnlyList<int> perGradeSides = sides is { Count: > 0 } ? sides : [KneeSides.None];
        var items = new List<PlannedImage>();
        long position = 0;
        for (int k = 0; k < grades.Count; k++)
        {
            int grade = grades[k];
            foreach (int side in perGradeSides)
                for (long i = 0; i < counts[k]; i++, position++)
                    if (shard.Contains(position))
                        items.Add(new PlannedImage(grade, i, Path.Combine(grade.ToString(), FileName(grade, i, seed, settings, side)), side));
        }
        return items;
    }

    /// <summary>The side a generated file's name records (<c>kl2_L_…</c>, <c>kl2_any_…</c>), or <see cref="KneeSides.None"/>.</summary>
    public static int SideOf(string fileName)
    {
        string[] parts = fileName.Split('_');
        if (parts.Length < 3 || !parts[0].StartsWith("kl", StringComparison.Ordinal)) return KneeSides.None;
        return parts[1] switch
        {
            "L" => KneeSides.Left,
            "R" => KneeSides.Right,
            "any" => KneeSides.Null,
            _ => KneeSides.None,
        };
    }

    public static string FileName(int grade, long index, long seed, SamplerSettings settings, int side = KneeSides.None) =>
        side == KneeSides.None
            ? $"kl{grade}_{settings.Tag}_s{seed}_{index:D6}.png"
            : $"kl{grade}_{KneeSides.Label(side)}_{settings.Tag}_s{seed}_{index:D6}.png";
}
