using KneeOnnx.Training.LibTorch;

namespace KneeOnnx.Training.Evaluation;

/// <summary>
/// Nearest-training-image distances. A generated image closer to a training image than the 1st percentile of real
/// (val) images' nearest-training distances is flagged as a possible copy.
/// </summary>
public static class Memorisation
{
    /// <summary>For each query, (index of nearest reference, Euclidean distance).</summary>
    public static (int Index, double Distance)[] Nearest(IReadOnlyList<float[]> queries, IReadOnlyList<float[]> references)
    {
        var result = new (int, double)[queries.Count];
        Parallel.For(0, queries.Count, HostParallelism.Options, q =>
        {
            var query = queries[q];
            double best = double.PositiveInfinity;
            int bestIndex = -1;
            for (int r = 0; r < references.Count; r++)
            {
                var reference = references[r];
                double sum = 0;
                for (int i = 0; i < query.Length && sum < best; i++)
                {
                    double d = query[i] - reference[i];
                    sum += d * d;
                }
                if (sum < best)
                {
                    best = sum;
                    bestIndex = r;
                }
            }
            result[q] = (bestIndex, Math.Sqrt(best));
        });
        return result;
    }

    /// <summary>The p-th percentile (0..100) by linear interpolation between order statistics.</summary>
    public static double Percentile(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        double rank = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
