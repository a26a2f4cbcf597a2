using System.Text.RegularExpressions;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;

namespace KneeOnnx.Tests;

public partial class RealDataTests
{
    [GeneratedRegex(@"^\d{7}[LR]\.png$")]
    private static partial Regex KneeFileName();

    [RealDataFact]
    public void ValSplitLoadsWithItsPublishedGradeCounts()
    {
        var data = KneeDataset.Load(RealData.Root!, "val", 64);
        Assert.Equal([328, 153, 212, 106, 27], data.CountPerGrade());
        Assert.Empty(data.SkippedFiles);
        Assert.All(data.Files, f => Assert.Matches(KneeFileName(), Path.GetFileName(f)));
        // Real radiographs are not flat: bone and joint space differ by dozens of gray levels.
        Assert.All(data.Images.Take(50), img => Assert.True(img.Max() - img.Min() > 0.3f));
    }
}
