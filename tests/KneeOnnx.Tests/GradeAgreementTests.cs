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
}
