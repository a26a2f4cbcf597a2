using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Evaluation;

namespace KneeOnnx.Tests;

public class EvaluationReportTests
{
    // The shape evaluate wrote before --model and --augment existed: no "generation", no "augmentBenefit".
    private const string OldReport = """
        {
          "imageSide": 64,
          "generated": { "directory": "gen", "images": 300, "perGrade": [60, 60, 60, 60, 60] },
          "real": { "directory": "val", "images": 826, "perGrade": [328, 153, 212, 106, 27] },
          "train": { "directory": "train", "images": 5778, "perGrade": [2286, 1046, 1516, 757, 173] },
          "fidRn18": { "0": 482.5, "1": 531.8, "2": 531.7, "3": 464.9, "4": null, "all": 480.4 },
          "floor": { "0": 66.9, "1": 71.5, "2": 84.2, "3": 89.5, "4": 150.1, "all": 25.9 },
          "counts": {
            "0": { "generated": 60, "real": 328, "floorSample": 60 }, "1": { "generated": 60, "real": 153, "floorSample": 60 },
            "2": { "generated": 60, "real": 212, "floorSample": 60 }, "3": { "generated": 60, "real": 106, "floorSample": 60 },
            "4": { "generated": 1, "real": 27, "floorSample": 1 }, "all": { "generated": 241, "real": 826, "floorSample": 241 }
          },
          "gradeFidelity": null, "spearman": null, "klIs": null,
          "classifierMeasures": "not computed (classifier pending)",
          "memorised": 1,
          "memorisation": {
            "pixelThreshold": 2.99312, "featureThreshold": 6.9, "flaggedByPixels": 1, "flaggedByFeatures": 0, "flagged": [],
            "generatedMedianPixelDistance": 5.1309, "realMedianPixelDistance": 5.5671
          },
          "seconds": 892.3
        }
        """;

    private static string Write(TempDirectory dir, string name, string text)
    {
        Directory.CreateDirectory(dir.Combine(name));
        File.WriteAllText(dir.Combine(name, EvaluationReport.FileName), text);
        return dir.Combine(name, EvaluationReport.FileName);
    }

    [Fact]
    public void AnOldReportLoadsAndRendersFidOverFloorRatiosComputedByHand()
    {
        using var dir = new TempDirectory();
        var report = EvaluationReport.Load(Write(dir, "old", OldReport));
        Assert.Null(report.Generation);
        Assert.Null(report.AugmentBenefit);
        string md = EvaluationMarkdown.CardSection(report, "kneeonnx-train evaluate");
        Assert.Contains("| KL0 | 482.5 | 66.9 | 7.21× | 60 | 328 |", md);     // 482.5 / 66.9 = 7.212…
        Assert.Contains("| all | 480.4 | 25.9 | 18.55× | 241 | 826 |", md);   // 480.4 / 25.9 = 18.548…
        Assert.Contains("| KL4 | – | 150.1 | – | 1 | 27 |", md);              // no FID for a grade with one image
        Assert.Contains("not computed (classifier pending)", md);
        Assert.Contains("(2.993); 0 in ResNet-18 feature space", md);
        Assert.DoesNotContain("Augmentation benefit", md);
    }

    [Fact]
    public void AnAugmentNoteInPlaceOfTheBenefitLoadsAsNotComputed()
    {
        using var dir = new TempDirectory();
        string json = OldReport.Replace("\"memorised\": 1,", "\"memorised\": 1, \"generation\": null, \"augmentBenefit\": \"not computed: pass --augment\",");
        Assert.Null(EvaluationReport.Load(Write(dir, "r", json)).AugmentBenefit);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData("{\"imageSide\": 64}")]
    public void AWrongShapedReportIsAOneLineCardErrorNamingTheFile(string text)
    {
        using var dir = new TempDirectory();
        using var model = new TinyOnnxModel();
        string path = Write(dir, "bad", text);
        var (code, _, err) = InProcessCli.Train("card", "--model", model.Path, "--evaluation", dir.Combine("bad"));
        Assert.Equal(2, code);
        Assert.Contains(path, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void AReportWhoseFloorLacksAGradeOfItsFidIsRejected()
    {
        using var dir = new TempDirectory();
        string path = Write(dir, "r", OldReport.Replace("\"3\": 89.5, ", ""));
        var e = Assert.Throws<InvalidDataException>(() => EvaluationReport.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("3", e.Message);
    }
}
