using KneeOnnx.Generation;

namespace KneeOnnx.Output;

/// <summary>One image to make: its grade, its index in the grade's stream, and where it goes.</summary>
public readonly record struct PlannedImage(int Grade, long Index, string RelativePath);

/// <summary>
/// The files a generate request stands for, in a fixed order (grade by grade, index by index), cut to one shard.
/// Names carry the settings and seed, so a different request never mistakes another's files for its own.
/// </summary>
public static class GenerationPlan
{
    public static IReadOnlyList<PlannedImage> Build(IReadOnlyList<int> grades, int perGrade, long seed, SamplerSettings settings, Shard shard)
    {
        if (perGrade < 1) throw new ArgumentException($"--per-grade must be at least 1, got {perGrade}");
        var items = new List<PlannedImage>();
        long position = 0;
        foreach (int grade in grades)
            for (long i = 0; i < perGrade; i++, position++)
                if (shard.Contains(position))
                    items.Add(new PlannedImage(grade, i, Path.Combine(grade.ToString(), FileName(grade, i, seed, settings))));
        return items;
    }

    public static string FileName(int grade, long index, long seed, SamplerSettings settings) =>
        $"kl{grade}_{settings.Tag}_s{seed}_{index:D6}.png";
}
