using KneeOnnx.Randomness;

namespace KneeOnnx.Training.Data;

/// <summary>How often each grade is drawn during training.</summary>
public static class Balance
{
    /// <summary>As often as the grade appears in the data.</summary>
    public const string None = "none";
    /// <summary>Proportional to √count: rare grades drawn more, without repeating grade 4's 173 images 13× as often.</summary>
    public const string Sqrt = "sqrt";
    /// <summary>Every grade equally often.</summary>
    public const string Balanced = "balanced";

    public static readonly IReadOnlyList<string> All = [None, Sqrt, Balanced];
}

/// <summary>Draws dataset indexes: first a grade with the chosen weighting, then an image of that grade uniformly.</summary>
public sealed class GradeSampler
{
    private readonly int[][] _indexesByGrade;
    private readonly double[] _cumulative;

    public IReadOnlyList<double> GradeProbabilities { get; }

    public GradeSampler(IReadOnlyList<int> grades, string balance, int gradeCount = KlGrades.Count)
    {
        _indexesByGrade = Enumerable.Range(0, gradeCount)
            .Select(g => Enumerable.Range(0, grades.Count).Where(i => grades[i] == g).ToArray())
            .ToArray();
        double[] weights = _indexesByGrade.Select(ix => ix.Length == 0 ? 0.0 : balance switch
        {
            Balance.None => ix.Length,
            Balance.Sqrt => Math.Sqrt(ix.Length),
            Balance.Balanced => 1.0,
            _ => throw new ArgumentException($"unknown balance '{balance}' (expected {string.Join(", ", Balance.All)})"),
        }).ToArray();
        double sum = weights.Sum();
        if (sum <= 0) throw new ArgumentException("no images to sample from");
        GradeProbabilities = weights.Select(w => w / sum).ToArray();
        _cumulative = new double[gradeCount];
        double running = 0;
        for (int g = 0; g < gradeCount; g++)
        {
            running += GradeProbabilities[g];
            _cumulative[g] = running;
        }
        _cumulative[^1] = 1.0;
    }

    public int Next(ref SplitMix64 rng)
    {
        double u = rng.NextDouble();
        int grade = 0;
        while (u >= _cumulative[grade] || _indexesByGrade[grade].Length == 0) grade++;
        var pool = _indexesByGrade[grade];
        return pool[rng.NextInt(pool.Length)];
    }
}
