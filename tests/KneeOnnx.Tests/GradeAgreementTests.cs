using KneeOnnx.Training.Evaluation;

namespace KneeOnnx.Tests;

public class GradeAgreementTests
{
    [Fact]
    public void SpearmanOfMonotoneSeriesIsOneAndOfReversedIsMinusOne()
    {
        Assert.Equal(1.0, GradeAgreement.Spearman([0, 1, 2, 3], [0.1, 5, 7, 100]), 12);
        Assert.Equal(-1.0, GradeAgreement.Spearman([0, 1, 2, 3], [9, 4, 1, 0]), 12);
    }

    [Fact]
    public void SpearmanHandlesTiesWithAverageRanks()
    {
        // x ranks (1,2,3,4); y = (1,1,2,3) has ranks (1.5,1.5,3,4): ρ = Σ(dx·dy)/√(Σdx²Σdy²) = 4.5/√(5·4.5) = 0.948683…
        Assert.Equal(4.5 / Math.Sqrt(5 * 4.5), GradeAgreement.Spearman([0, 1, 2, 3], [1, 1, 2, 3]), 12);
    }

    [Fact]
    public void InceptionScoreRangesFromOneToTheNumberOfGrades()
    {
        var uniform = Enumerable.Repeat(new float[] { 0.2f, 0.2f, 0.2f, 0.2f, 0.2f }, 10).ToList();
        Assert.Equal(1.0, GradeAgreement.InceptionScore(uniform), 6);
        var confident = Enumerable.Range(0, 10).Select(i => Enumerable.Range(0, 5).Select(j => j == i % 5 ? 1f : 0f).ToArray()).ToList();
        Assert.Equal(5.0, GradeAgreement.InceptionScore(confident), 6);
    }

    [Fact]
    public void InceptionScoreOfAClassifierThatAlwaysSaysTheSameGradeIsExactlyOne()
    {
        var same = Enumerable.Repeat(new float[] { 0, 0, 1, 0, 0 }, 7).ToList();
        Assert.Equal(1.0, GradeAgreement.InceptionScore(same), 12);
    }

    [Fact]
    public void InceptionScoreOfConfidentUnevenPredictionsIsTheExponentialOfTheirGradeEntropy()
    {
        // One-hot predictions make each KL(p‖marginal) = −ln marginal(grade), so IS = exp(H(marginal)):
        // grades 0, 0, 0, 1 → marginal (3/4, 1/4) → exp(¾ ln 4/3 + ¼ ln 4) = (4/3)^¾ · 4^¼.
        var probabilities = new[] { 0, 0, 0, 1 }.Select(g => new float[] { g == 0 ? 1 : 0, g == 1 ? 1 : 0 }).ToList();
        Assert.Equal(Math.Pow(4.0 / 3, 0.75) * Math.Pow(4, 0.25), GradeAgreement.InceptionScore(probabilities), 6);
    }

    [Fact]
    public void InceptionScoreOfAnUnsureAndASureImageMatchesTheHandComputedValue()
    {
        // p₁ = (1, 0), p₂ = (½, ½): marginal (¾, ¼); KL₁ = ln 4/3, KL₂ = ½ ln(⅔) + ½ ln 2 = ½ ln 4/3; IS = exp(¾ ln 4/3) = (4/3)^¾.
        float[][] probabilities = [[1, 0], [0.5f, 0.5f]];
        Assert.Equal(Math.Pow(4.0 / 3, 0.75), GradeAgreement.InceptionScore(probabilities), 6);
    }
}
