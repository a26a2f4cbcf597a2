using KneeOnnx.Randomness;

namespace KneeOnnx.Training.Data;

/// <summary>
/// A smaller training set with the grade mix of the whole: the share <c>fraction</c> of every grade (rounded, at least
/// one image), drawn without replacement by a fixed seed, so every run asking for the same fraction of the same folder
/// gets the same images. It stands for a user's own, smaller data set of the same population.
/// </summary>
public static class StratifiedSubset
{
    /// <summary>The kept indexes of <paramref name="grades"/>, in ascending order.</summary>
    public static int[] Indexes(IReadOnlyList<int> grades, double fraction, long seed = 0)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, $"the share of real train images to keep must be in (0, 1], got {fraction}");
        var kept = new List<int>();
        foreach (var grade in grades.Distinct().Order())
        {
            var pool = Enumerable.Range(0, grades.Count).Where(i => grades[i] == grade).ToArray();
            var rng = SplitMix64.For(seed, grade, 11);
            for (int i = pool.Length - 1; i > 0; i--)
            {
                int j = rng.NextInt(i + 1);
                (pool[i], pool[j]) = (pool[j], pool[i]);
            }
            kept.AddRange(pool.Take(Math.Max(1, (int)Math.Round(fraction * pool.Length, MidpointRounding.AwayFromZero))));
        }
        return kept.Order().ToArray();
    }
}
