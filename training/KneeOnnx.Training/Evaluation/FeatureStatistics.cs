using MathNet.Numerics.LinearAlgebra;

namespace KneeOnnx.Training.Evaluation;

/// <summary>Mean and (unbiased) covariance of a set of feature vectors, in double precision.</summary>
public sealed record FeatureStatistics(Vector<double> Mean, Matrix<double> Covariance, int Count)
{
    public static FeatureStatistics Of(IReadOnlyList<float[]> features)
    {
        if (features.Count < 2) throw new ArgumentException($"need at least 2 feature vectors for a covariance, got {features.Count}");
        int d = features[0].Length;
        var data = Matrix<double>.Build.Dense(features.Count, d, (i, j) => features[i][j]);
        var mean = data.ColumnSums() / features.Count;
        var centred = data - Matrix<double>.Build.Dense(features.Count, d, (_, j) => mean[j]);
        var covariance = centred.TransposeThisAndMultiply(centred) / (features.Count - 1);
        return new FeatureStatistics(mean, covariance, features.Count);
    }
}
