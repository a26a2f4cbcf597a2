namespace KneeOnnx.Training.Filtering;

/// <summary>How many images of one asked grade a filter saw and kept.</summary>
public readonly record struct GradeKept(int Grade, int Asked, int Kept);

/// <summary>
/// Keeps the generated images a grade classifier reads as the grade they were asked for, with at least a given
/// probability: the label-noise filter of synthetic training sets (He et al. 2023 filter with CLIP, medical work with a
/// task classifier), so a classifier trained on them is not taught a model's misses as its grades.
/// </summary>
public static class GradeFilter
{
    /// <summary>Indexes (ascending) of the images whose most probable grade is the asked one, at probability ≥ <paramref name="minProbability"/>.</summary>
    public static int[] Keep(IReadOnlyList<int> askedGrades, IReadOnlyList<float[]> probabilities, double minProbability)
    {
        if (askedGrades.Count != probabilities.Count)
            throw new ArgumentException($"{askedGrades.Count} grades but {probabilities.Count} probability rows");
        if (!(minProbability is >= 0 and <= 1)) throw new ArgumentException($"--min-probability must be in [0, 1], got {minProbability}");
        var kept = new List<int>();
        for (int i = 0; i < askedGrades.Count; i++)
        {
            var p = probabilities[i];
            int grade = askedGrades[i];
            if (grade < 0 || grade >= p.Length) throw new ArgumentException($"image {i}: grade {grade} is not one of the classifier's {p.Length} classes");
            // Strictly above every other class: a tie is not a reading of the asked grade.
            bool readAsAsked = Enumerable.Range(0, p.Length).All(j => j == grade || p[j] < p[grade]);
            if (readAsAsked && p[grade] >= minProbability) kept.Add(i);
        }
        return kept.ToArray();
    }

    /// <summary>Asked and kept counts per grade present, in grade order.</summary>
    public static GradeKept[] Counts(IReadOnlyList<int> askedGrades, IReadOnlyCollection<int> kept)
    {
        var keptSet = kept.ToHashSet();
        return Enumerable.Range(0, askedGrades.Count).GroupBy(i => askedGrades[i]).OrderBy(g => g.Key)
            .Select(g => new GradeKept(g.Key, g.Count(), g.Count(keptSet.Contains))).ToArray();
    }
}
