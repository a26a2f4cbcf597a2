namespace KneeOnnx.Training.Classifier;

/// <summary>Agreement between true and predicted KL grades: accuracy, per-grade recall, quadratic-weighted κ, mean absolute grade error.</summary>
public sealed record ClassificationMetrics(double Accuracy, double[] Recall, double QuadraticKappa, double MeanAbsoluteError, int[,] Confusion, int Count)
{
    /// <summary>
    /// The unweighted mean over classes of F1 = 2·TP / (2·TP + FP + FN); a class that is neither present nor predicted is
    /// left out (its F1 is undefined), one present but never predicted counts 0.
    /// </summary>
    public double MacroF1
    {
        get
        {
            int classes = Confusion.GetLength(0);
            var scores = new List<double>();
            for (int c = 0; c < classes; c++)
            {
                int tp = Confusion[c, c], fn = 0, fp = 0;
                for (int o = 0; o < classes; o++)
                {
                    if (o == c) continue;
                    fn += Confusion[c, o];
                    fp += Confusion[o, c];
                }
                if (tp + fn + fp > 0) scores.Add(2.0 * tp / (2.0 * tp + fp + fn));
            }
            return scores.Count == 0 ? double.NaN : scores.Average();
        }
    }

    public static ClassificationMetrics Of(IReadOnlyList<int> truth, IReadOnlyList<int> predicted, int classes = KlGrades.Count)
    {
        if (truth.Count != predicted.Count || truth.Count == 0) throw new ArgumentException("need equally many (and some) true and predicted grades");
        int n = truth.Count;
        var confusion = new int[classes, classes];
        for (int i = 0; i < n; i++) confusion[truth[i], predicted[i]]++;
        double accuracy = Enumerable.Range(0, n).Count(i => truth[i] == predicted[i]) / (double)n;
        var recall = Enumerable.Range(0, classes).Select(g =>
        {
            int total = Enumerable.Range(0, classes).Sum(p => confusion[g, p]);
            return total == 0 ? double.NaN : confusion[g, g] / (double)total;
        }).ToArray();
        double mae = Enumerable.Range(0, n).Average(i => Math.Abs(truth[i] - predicted[i]));
        return new ClassificationMetrics(accuracy, recall, WeightedKappa(confusion, classes), mae, confusion, n);
    }

    /// <summary>Cohen's κ with weights (i−j)²/(K−1)² (Cohen 1968): 1 − Σw·O / Σw·E, E from the marginals.</summary>
    public static double WeightedKappa(int[,] observed, int classes)
    {
        double n = 0;
        var rows = new double[classes];
        var cols = new double[classes];
        for (int i = 0; i < classes; i++)
            for (int j = 0; j < classes; j++)
            {
                n += observed[i, j];
                rows[i] += observed[i, j];
                cols[j] += observed[i, j];
            }
        double num = 0, den = 0;
        for (int i = 0; i < classes; i++)
            for (int j = 0; j < classes; j++)
            {
                double w = (i - j) * (i - j) / (double)((classes - 1) * (classes - 1));
                num += w * observed[i, j];
                den += w * rows[i] * cols[j] / n;
            }
        return den == 0 ? 1.0 : 1 - num / den;
    }
}
