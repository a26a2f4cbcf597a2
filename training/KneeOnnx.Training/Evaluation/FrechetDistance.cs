using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace KneeOnnx.Training.Evaluation;

/// <summary>
/// The Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017):
/// d² = |μ₁−μ₂|² + Tr(Σ₁ + Σ₂ − 2(Σ₁^½ Σ₂ Σ₁^½)^½). Using the symmetric product Σ₁^½ Σ₂ Σ₁^½ keeps every matrix
/// square root one of a symmetric positive semi-definite matrix, taken by eigendecomposition with tiny negative
/// eigenvalues (rounding) clipped to zero, so no complex parts appear.
/// </summary>
public static class FrechetDistance
{
    public static double Between(FeatureStatistics a, FeatureStatistics b)
    {
        if (a.Mean.Count != b.Mean.Count) throw new ArgumentException($"feature sizes differ: {a.Mean.Count} vs {b.Mean.Count}");
        double meanTerm = (a.Mean - b.Mean).DotProduct(a.Mean - b.Mean);
        var rootA = SymmetricSqrt(a.Covariance);
        var product = rootA * b.Covariance * rootA;
        var symmetric = (product + product.Transpose()) / 2;
        double crossTrace = symmetric.Evd(Symmetricity.Symmetric).EigenValues.Sum(e => Math.Sqrt(Math.Max(e.Real, 0)));
        return Math.Max(0, meanTerm + a.Covariance.Trace() + b.Covariance.Trace() - 2 * crossTrace);
    }

    public static Matrix<double> SymmetricSqrt(Matrix<double> m)
    {
        var evd = ((m + m.Transpose()) / 2).Evd(Symmetricity.Symmetric);
        var roots = Matrix<double>.Build.DiagonalOfDiagonalVector(evd.EigenValues.Map(e => Math.Sqrt(Math.Max(e.Real, 0))));
        return evd.EigenVectors * roots * evd.EigenVectors.Transpose();
    }
}
