using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Cli;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// train --config FILE: a misspelt key used to be ignored (training with a default nobody chose) and out-of-range
/// values failed late inside TorchSharp. Each is now one line naming the file and the key, checked with the same
/// rules as the options, before the run folder exists.
/// </summary>
public class ConfigFileTests
{
    public static TheoryData<string, string> BadFiles() => new()
    {
        { """{"Stepz": 3}""", "unknown key 'Stepz'" },
        { """{"steps": 3, "learning_rate": 0.1}""", "unknown key 'learning_rate'" },
        { """{"Steps": "ten"}""", "key 'Steps' has the wrong type" },
        { """{"Steps": 1.5}""", "key 'Steps' has the wrong type" },
        { """{"Steps": null}""", "key 'Steps' has the wrong type" },
        { """{"Steps": 99999999999}""", "key 'Steps' has the wrong type" },
        { """{"Balance": 3}""", "key 'Balance' has the wrong type" },
        { """{"HorizontalFlip": "yes"}""", "key 'HorizontalFlip' has the wrong type" },
        { """{"Steps": 0}""", "key 'Steps' must be at least 1, got 0" },
        { """{"BatchSize": 5000}""", "key 'BatchSize' must be in 1..4096" },
        { """{"LearningRate": 2}""", "key 'LearningRate' must be in (0, 1)" },
        { """{"FinalLearningRateFraction": 7}""", "key 'FinalLearningRateFraction' must be in [0, 1], got 7" },
        { """{"WeightDecay": -0.1}""", "key 'WeightDecay' must be in [0, 1), got -0.1" },
        { """{"GradientClip": 0}""", "key 'GradientClip' must be > 0" },
        { """{"EmaDecay": 1}""", "key 'EmaDecay' must be in [0, 1)" },
        { """{"LabelDropout": -1}""", "key 'LabelDropout' must be in [0, 1)" },
        { """{"MinSnrGamma": -5}""", "key 'MinSnrGamma' must be >= 0" },
        { """{"WarmupSteps": -1}""", "key 'WarmupSteps' must be >= 0" },
        { """{"CheckpointEvery": 0}""", "key 'CheckpointEvery' must be at least 1" },
        { """{"Preset": "huge"}""", "key 'Preset' 'huge' is not one of" },
        { """{"Conditioning": "sideways"}""", "key 'Conditioning' 'sideways' is not one of" },
        { """{"Balance": "odd"}""", "key 'Balance' 'odd' is not one of" },
        { """{"BetaSchedule": "quadratic"}""", "key 'BetaSchedule/TrainTimesteps/BetaStart/BetaEnd'" },
        { """{"TrainTimesteps": 0}""", "key 'BetaSchedule/TrainTimesteps/BetaStart/BetaEnd'" },
        { """{"BetaStart": 0.5, "BetaEnd": 0.1}""", "key 'BetaSchedule/TrainTimesteps/BetaStart/BetaEnd'" },
        { """{"Steps": 3, "steps": 5}""", "key 'steps' is given more than once" },
        { """{"Seed": 1, "Seed": 2}""", "key 'Seed' is given more than once" },
        { "[]", "must be a JSON object of training settings" },
        { "\"small\"", "must be a JSON object of training settings" },
        { "{\"Steps\": 3", "not valid JSON" },
        { "", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadConfigFilesAreRefusedNamingFileAndKey(string json, string expected)
    {
        using var dir = new TempDirectory();
        string file = dir.Combine("settings.json");
        File.WriteAllText(file, json);
        var result = InProcessCli.Train("train", "--data", dir.Combine("data"), "--config", file, "--out", dir.Combine("run"));
        Refusal.Check(result, expected);
        Assert.Contains(file, result.Err);
        Assert.False(Directory.Exists(dir.Combine("run")));
    }

    [Fact]
    public void MissingConfigFileIsNamed()
    {
        using var dir = new TempDirectory();
        var result = InProcessCli.Train("train", "--data", dir.Path, "--config", dir.Combine("absent.json"), "--out", dir.Combine("run"));
        Refusal.Check(result, dir.Combine("absent.json") + ": --config file not found");
        Assert.False(Directory.Exists(dir.Combine("run")));
    }

    [Fact]
    public void OptionsOverrideTheFileWhichNeedsNeitherDataNorPreset()
    {
        using var dir = new TempDirectory();
        string file = dir.Combine("settings.json");
        File.WriteAllText(file, """{"steps": 7, "BatchSize": 3, "LearningRate": 0.002}""");
        var options = new TrainOptions { ConfigFile = file, Data = "data-from-option", Batch = 5 };
        var config = options.ToConfig();
        Assert.Equal("data-from-option", config.Data);
        Assert.Equal(KneeOnnx.Training.Model.Presets.Small, config.Preset);
        Assert.Equal(7, config.Steps);
        Assert.Equal(5, config.BatchSize);
        Assert.Equal(0.002, config.LearningRate);
    }

    [Fact]
    public void AFileWithoutDataStillNeedsTheDataOption()
    {
        using var dir = new TempDirectory();
        string file = dir.Combine("settings.json");
        File.WriteAllText(file, """{"Preset": "tiny"}""");
        var result = InProcessCli.Train("train", "--config", file, "--out", dir.Combine("run"));
        Refusal.Check(result, "--data is required");
        Assert.False(Directory.Exists(dir.Combine("run")));
    }
}
