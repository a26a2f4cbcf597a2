using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests.Reliability;

/// <summary>A resumed run keeps its checkpoint's settings: an option that would change one used to be ignored without a word.</summary>
public class ResumeSettingsTests
{
    [Theory]
    [InlineData("--batch", "32", "BatchSize = 2")]
    [InlineData("--lr", "0.5", "LearningRate = 0.001")]
    [InlineData("--no-flip", null, "HorizontalFlip = True")]
    [InlineData("--seed", "99", "Seed = 3")]
    public void AChangedSettingIsRefusedNamingItAndTheRunIsUntouched(string option, string? value, string expected)
    {
        using var dir = new TempDirectory();
        string run = dir.Combine("run");
        TinyRuns.Train(run, steps: 2);
        var before = Refusal.Tree(run).ToDictionary(f => f, File.ReadAllBytes);
        string[] args = value is null
            ? ["train", "--resume", "--out", run, "--steps", "4", option]
            : ["train", "--resume", "--out", run, "--steps", "4", option, value];
        var result = InProcessCli.Train(args);
        Refusal.Check(result, expected);
        foreach (var (file, bytes) in before)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(file)), $"{file} changed");
    }

    [Fact]
    public void TheSameCommandAgainWithResumeIsAccepted()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 1, side: 32);
        string run = dir.Combine("run");
        string[] command = ["train", "--data", data, "--out", run, "--preset", "tiny", "--batch", "2", "--lr", "0.001", "--seed", "3", "--threads", "1"];
        Assert.Equal(0, InProcessCli.Train([.. command, "--steps", "1"]).Code);
        var result = InProcessCli.Train([.. command, "--steps", "2", "--resume"]);
        Assert.True(result.Code == 0, result.Err);
        Assert.Equal(2, Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName)).Step);
    }

    /// <summary>Provenance: a run resumed on other images would export weights trained on two data sets under one hash.</summary>
    [Fact]
    public void ResumeOnChangedImagesIsRefusedAndTheRunIsUntouched()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 1, side: 32);
        string run = dir.Combine("run");
        string[] command = ["train", "--data", data, "--out", run, "--preset", "tiny", "--batch", "2", "--lr", "0.001", "--seed", "3", "--threads", "1"];
        Assert.Equal(0, InProcessCli.Train([.. command, "--steps", "1"]).Code);
        SyntheticKnees.WriteDataset(data, perGrade: 1, side: 32, firstIndex: 50); // one more image per grade
        var before = Refusal.Tree(run).ToDictionary(f => f, File.ReadAllBytes);
        Refusal.Check(InProcessCli.Train([.. command, "--steps", "2", "--resume"]), "differ from those the checkpoint was trained on");
        foreach (var (file, bytes) in before)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(file)), $"{file} changed");
    }

    /// <summary>The same folder given as an absolute path, an explicit image size equal to the preset's, and the run's own --config: all the same run.</summary>
    [Fact]
    public void EquivalentSpellingsOfTheSameRunResume()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 1, side: 32);
        string config = dir.Combine("settings.json");
        File.WriteAllText(config, """{"Preset": "tiny", "BatchSize": 2, "LearningRate": 0.001}""");
        string run = dir.Combine("run");
        string previous = Directory.GetCurrentDirectory();
        try
        {
            Directory.SetCurrentDirectory(dir.Path);
            Assert.Equal(0, InProcessCli.Train("train", "--data", "data", "--config", config, "--out", run, "--steps", "1", "--threads", "1").Code);
            var again = InProcessCli.Train("train", "--data", dir.Combine("data"), "--config", config, "--out", run, "--steps", "2", "--threads", "1", "--image-size", "32", "--resume");
            Assert.True(again.Code == 0, again.Err);
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
        Assert.Equal(2, Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName)).Step);
        Assert.True(Path.IsPathRooted(Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName)).Train.Data));
    }

    /// <summary>Another folder that happens to be spelt the same relative way is another data set.</summary>
    [Fact]
    public void AnotherFolderOfTheSameRelativeNameIsRefused()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine(Path.Combine("a", "data")), perGrade: 1, side: 32);
        SyntheticKnees.WriteDataset(dir.Combine(Path.Combine("b", "data")), perGrade: 1, side: 32);
        string run = dir.Combine("run");
        string previous = Directory.GetCurrentDirectory();
        try
        {
            Directory.SetCurrentDirectory(dir.Combine("a"));
            Assert.Equal(0, InProcessCli.Train("train", "--data", "data", "--preset", "tiny", "--batch", "2", "--out", run, "--steps", "1", "--threads", "1").Code);
            Directory.SetCurrentDirectory(dir.Combine("b"));
            Refusal.Check(InProcessCli.Train("train", "--data", "data", "--preset", "tiny", "--batch", "2", "--out", run, "--steps", "2", "--threads", "1", "--resume"), "Data");
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }
}
