namespace KneeOnnx.Training.Evaluation;

/// <summary>Rank correlation and the Inception-Score formula, applied to the KL classifier's view of generated images.</summary>
public static class GradeAgreement
{
    /// <summary>Spearman's ρ: Pearson correlation of the ranks, ties given their average rank.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count || x.Count < 2) throw new ArgumentException("need two equally long series of at least 2 values");
        var rx = Ranks(x);
        var ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < rx.Length; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }

    /// <summary>exp(E_x KL(p(y|x) ‖ p(y))) (Salimans et al. 2016) with the KL classifier's probabilities: 1 when every
    /// image looks the same to it, up to the number of grades when each is confidently one grade and grades are even.</summary>
    public static double InceptionScore(IReadOnlyList<float[]> probabilities)
    {
        if (probabilities.Count == 0) return double.NaN;
        int k = probabilities[0].Length;
        var marginal = new double[k];
        foreach (var p in probabilities)
            for (int j = 0; j < k; j++) marginal[j] += p[j] / (double)probabilities.Count;
        double meanKl = probabilities.Average(p => Enumerable.Range(0, k).Sum(j => p[j] > 0 ? p[j] * Math.Log(p[j] / marginal[j]) : 0));
        return Math.Exp(meanKl);
    }
}
