using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// A command that fails takes back the folders it created and left empty (an empty run folder looked like a run to
/// resume); a folder that existed before, or that received a file, stays.
/// </summary>
public class EmptyFolderTests(WholeCheckpoint whole) : IClassFixture<WholeCheckpoint>
{
    [Fact]
    public void TrainWithMissingDataLeavesNoRunFolder()
    {
        using var dir = new TempDirectory();
        var result = InProcessCli.Train("train", "--data", dir.Combine("absent"), "--preset", "tiny", "--threads", "1", "--out", dir.Combine("new", "deeper", "run"));
        Refusal.Check(result, dir.Combine("absent"));
        Assert.Empty(Refusal.Tree(dir.Path));
    }

    [Fact]
    public void AFolderThatExistedBeforeIsKept()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("run"));
        var result = InProcessCli.Train("train", "--data", dir.Combine("absent"), "--preset", "tiny", "--threads", "1", "--out", dir.Combine("run"));
        Refusal.Check(result, dir.Combine("absent"));
        Assert.True(Directory.Exists(dir.Combine("run")));
    }

    [Fact]
    public void ExportThatFailsItsSelfCheckLeavesNoFolderForTheModel()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("c.ckpt"), whole.Bytes);
        var result = InProcessCli.Train("export", "--checkpoint", dir.Combine("c.ckpt"), "--out", dir.Combine("new", "m.onnx"), "--tolerance", "1e-30");
        Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.ExportCheckFailedExitCode, result.Code);
        Assert.Equal([dir.Combine("c.ckpt")], Refusal.Tree(dir.Path));
    }

    [Fact]
    public void BenchWithAnUnreadableModelLeavesNoReportFolder()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("m.onnx"), [0x08, 0x07, 1, 2, 3]);
        var result = InProcessCli.Train("bench", "--model", dir.Combine("m.onnx"), "--threads", "1", "--out", dir.Combine("new", "bench"));
        Refusal.Check(result, dir.Combine("m.onnx"));
        Assert.Equal([dir.Combine("m.onnx")], Refusal.Tree(dir.Path));
    }

    [Fact]
    public void GenerateWithACorruptModelLeavesNoOutputFolder()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("m.onnx"), [0x08, 0x07, 1, 2, 3]);
        var result = InProcessCli.Generate("generate", "--model", dir.Combine("m.onnx"), "--provider", "cpu", "--out", dir.Combine("new", "o"), "--sheet", dir.Combine("sheets", "s.png"));
        Refusal.Check(result, dir.Combine("m.onnx"));
        Assert.Equal([dir.Combine("m.onnx")], Refusal.Tree(dir.Path));
    }

    [Fact]
    public void AugmentBenefitWithMissingDataLeavesNoReportFolder()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 1, side: 16, split: "gen");
        var before = Refusal.Tree(dir.Path);
        var result = InProcessCli.Train("augment-benefit", "--data", dir.Combine("absent"), "--generated", dir.Combine("gen"), "--threads", "1", "--out", dir.Combine("new", "aug"));
        Refusal.Check(result, dir.Combine("absent"));
        Assert.Equal(before, Refusal.Tree(dir.Path));
    }
}
