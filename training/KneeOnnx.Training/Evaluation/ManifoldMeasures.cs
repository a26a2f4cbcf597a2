using KneeOnnx.Training.LibTorch;

namespace KneeOnnx.Training.Evaluation;

/// <summary>Precision, recall, density and coverage of one generated set against one real set, with the k they used.</summary>
public sealed record ManifoldEstimate(double Precision, double Recall, double Density, double Coverage, int K);

/// <summary>
/// Fidelity and diversity read apart, which one FID number cannot do. Precision: the share of generated images that lie
/// on the real images' manifold; recall: the share of real images on the generated images' manifold (Kynkäänniemi et
/// al. 2019), each manifold the union of balls reaching every feature vector's k-th nearest neighbour in its own set.
/// Density and coverage (Naeem et al. 2020) use the real balls only, so a few outlying generated images cannot inflate
/// them: density counts how many real balls hold each generated image (1 on average when both sets come from one
/// distribution), coverage is the share of real images whose ball holds at least one generated image.
/// </summary>
public static class ManifoldMeasures
{
    /// <summary>Naeem et al.'s choice for density and coverage, and the prdc package's default for all four.</summary>
    public const int DefaultK = 5;

    /// <summary>The four measures of <paramref name="generated"/> against <paramref name="real"/>; null when either
    /// set has no more than k feature vectors (a k-th neighbour needs k others).</summary>
    public static ManifoldEstimate? Of(IReadOnlyList<float[]> real, IReadOnlyList<float[]> generated, int k = DefaultK)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
        if (real.Count <= k || generated.Count <= k) return null;
        int dims = real[0].Length;
        if (real.Concat(generated).Any(v => v.Length != dims)) throw new ArgumentException("feature vectors of different lengths");
        double[] realRadius = KthNeighbourSquaredDistances(real, k);
        double[] generatedRadius = KthNeighbourSquaredDistances(generated, k);

        // One pass over the real × generated distances, row by row; per-row results only, so rows run in parallel.
        var insideRealBalls = new int[real.Count][]; // for each real image, the generated images inside its ball
        var realOnGenerated = new bool[real.Count];
        Parallel.For(0, real.Count, HostParallelism.Options, i =>
        {
            var inside = new List<int>();
            bool recalled = false;
            for (int j = 0; j < generated.Count; j++)
            {
                double d = SquaredDistance(real[i], generated[j]);
                // Strictly inside, as the reference implementation (prdc) compares.
                if (d < realRadius[i]) inside.Add(j);
                if (d < generatedRadius[j]) recalled = true;
            }
            insideRealBalls[i] = inside.ToArray();
            realOnGenerated[i] = recalled;
        });
        var onRealManifold = new bool[generated.Count];
        long pairsInside = 0;
        foreach (var row in insideRealBalls)
        {
            pairsInside += row.Length;
            foreach (int j in row) onRealManifold[j] = true;
        }
        return new ManifoldEstimate(
            Precision: onRealManifold.Count(x => x) / (double)generated.Count,
            Recall: realOnGenerated.Count(x => x) / (double)real.Count,
            Density: pairsInside / ((double)k * generated.Count),
            Coverage: insideRealBalls.Count(r => r.Length > 0) / (double)real.Count,
            K: k);
    }

    /// <summary>For every vector, the squared distance to its k-th nearest other vector of the same set.</summary>
    private static double[] KthNeighbourSquaredDistances(IReadOnlyList<float[]> set, int k)
    {
        var result = new double[set.Count];
        Parallel.For(0, set.Count, HostParallelism.Options, i =>
        {
            var others = new double[set.Count - 1];
            for (int j = 0, o = 0; j < set.Count; j++)
                if (j != i) others[o++] = SquaredDistance(set[i], set[j]);
            Array.Sort(others);
            result[i] = others[k - 1];
        });
        return result;
    }

    private static double SquaredDistance(float[] a, float[] b)
    {
        double sum = 0;
        for (int d = 0; d < a.Length; d++)
        {
            double diff = a[d] - b[d];
            sum += diff * diff;
        }
        return sum;
    }
}
