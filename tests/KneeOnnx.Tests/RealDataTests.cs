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
        // Real radiographs use most of the gray range after resizing.
        Assert.All(data.Images.Take(20), img => Assert.True(img.Max() - img.Min() > 1.0f));
    }
}
