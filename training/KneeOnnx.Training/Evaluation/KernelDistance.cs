using KneeOnnx.Randomness;
using KneeOnnx.Training.LibTorch;

namespace KneeOnnx.Training.Evaluation;

/// <summary>One KID estimate: the mean of the unbiased MMD² over random subsets and its spread between subsets.</summary>
public sealed record KernelDistanceEstimate(double Mean, double StandardDeviation, int SubsetSize, int Subsets);

/// <summary>
/// Kernel Inception Distance (Bińkowski et al. 2018) on the evaluator's ResNet-18 features: the unbiased estimate of the
/// squared maximum mean discrepancy with the cubic polynomial kernel k(x, y) = (x·y/d + 1)³. FID is biased at small n,
/// so only its ratio to a floor of the same n can be read; KID's expectation is the population distance whatever n
/// is (zero for the same distribution, so a floor near zero and negative values are expected), and its spread over
/// subsets says how much of a difference between two evaluations one sample can carry. Subsets follow the usual recipe
/// (clean-fid, torch-fidelity): 100 draws without replacement of m = min(n_x, n_y, 1000) from each set.
/// </summary>
public static class KernelDistance
{
    public const int DefaultSubsets = 100;
    public const int DefaultMaxSubsetSize = 1000;

    /// <summary>The unbiased MMD² of the whole sets (sizes may differ): the within-set means leave out k(xᵢ, xᵢ).</summary>
    public static double Unbiased(IReadOnlyList<float[]> x, IReadOnlyList<float[]> y)
    {
        Require(x, y, 2);
        var kxx = Gram(x, x);
        var kyy = Gram(y, y);
        var kxy = Gram(x, y);
        return Mmd2(kxx, kyy, kxy, Enumerable.Range(0, x.Count).ToArray(), Enumerable.Range(0, y.Count).ToArray());
    }

    /// <summary>The subset estimate; null when either set has fewer than two feature vectors.</summary>
    public static KernelDistanceEstimate? OverSubsets(IReadOnlyList<float[]> x, IReadOnlyList<float[]> y, long seed,
        int subsets = DefaultSubsets, int maxSubsetSize = DefaultMaxSubsetSize)
    {
        if (x.Count < 2 || y.Count < 2) return null;
        Require(x, y, 2);
        if (subsets < 1 || maxSubsetSize < 2) throw new ArgumentOutOfRangeException(nameof(subsets), "at least one subset of at least two");
        int m = Math.Min(Math.Min(x.Count, y.Count), maxSubsetSize);
        // The Gram matrices of the whole sets once (n ≤ a few thousand here); every subset indexes into them.
        var kxx = Gram(x, x);
        var kyy = Gram(y, y);
        var kxy = Gram(x, y);
        var values = new double[subsets];
        for (int s = 0; s < subsets; s++)
        {
            int[] ix = Draw(x.Count, m, SplitMix64.For(seed, s, 0));
            int[] iy = Draw(y.Count, m, SplitMix64.For(seed, s, 1));
            values[s] = Mmd2(kxx, kyy, kxy, ix, iy);
        }
        double mean = values.Average();
        double sd = subsets > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (subsets - 1)) : 0;
        return new KernelDistanceEstimate(mean, sd, m, subsets);
    }

    private static void Require(IReadOnlyList<float[]> x, IReadOnlyList<float[]> y, int atLeast)
    {
        if (x.Count < atLeast || y.Count < atLeast) throw new ArgumentException($"KID needs at least {atLeast} feature vectors per set, got {x.Count} and {y.Count}");
        int d = x[0].Length;
        if (x.Any(v => v.Length != d) || y.Any(v => v.Length != d)) throw new ArgumentException("feature vectors differ in length");
    }

    private static double[,] Gram(IReadOnlyList<float[]> a, IReadOnlyList<float[]> b)
    {
        int d = a[0].Length;
        var k = new double[a.Count, b.Count];
        Parallel.For(0, a.Count, HostParallelism.Options, i =>
        {
            float[] ai = a[i];
            for (int j = 0; j < b.Count; j++)
            {
                float[] bj = b[j];
                double dot = 0;
                for (int c = 0; c < d; c++) dot += (double)ai[c] * bj[c];
                double u = dot / d + 1;
                k[i, j] = u * u * u;
            }
        });
        return k;
    }

    /// <summary>The unbiased MMD² of the rows <paramref name="ix"/> of x and <paramref name="iy"/> of y, from the Gram matrices.</summary>
    private static double Mmd2(double[,] kxx, double[,] kyy, double[,] kxy, int[] ix, int[] iy) =>
        OffDiagonalMean(kxx, ix) + OffDiagonalMean(kyy, iy) - 2 * CrossMean(kxy, ix, iy);

    private static double OffDiagonalMean(double[,] k, int[] index)
    {
        double sum = 0;
        foreach (int i in index)
            foreach (int j in index)
                if (i != j) sum += k[i, j];
        return sum / ((double)index.Length * (index.Length - 1));
    }

    private static double CrossMean(double[,] k, int[] ix, int[] iy)
    {
        double sum = 0;
        foreach (int i in ix)
            foreach (int j in iy)
                sum += k[i, j];
        return sum / ((double)ix.Length * iy.Length);
    }

    /// <summary>m distinct indexes of 0..n−1 (a partial Fisher–Yates shuffle).</summary>
    private static int[] Draw(int n, int m, SplitMix64 rng)
    {
        int[] pool = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < m; i++)
        {
            int j = i + rng.NextInt(n - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..m];
    }
}
