using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests;

/// <summary>
/// --max-minutes ends a run before a session does, so it must count what happens before the first step: a latent run
/// on a GPU machine spent 273 s encoding the train split, the trainer's clock started after that, and the session's
/// job limit killed it before its stop checkpoint.
/// </summary>
public class MaxMinutesTests
{
    private static TrainResult Run(string runDir, DateTime startedUtc)
    {
        var (images, grades) = SyntheticKnees.InMemory(2, 32);
        var config = new TrainConfig { Data = "memory", Preset = Presets.Tiny, Steps = 3, BatchSize = 2, LearningRate = 1e-3, WarmupSteps = 1, Seed = 3 };
        return Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = runDir, Threads = 2, Device = "cpu", Output = new StringWriter(), MaxMinutes = 1, StartedUtc = startedUtc,
            Preloaded = KneeDataset.FromMemory(32, images, grades),
        });
    }

    [Fact]
    public void TimeSpentBeforeTheFirstStepCountsAgainstTheLimit()
    {
        using var dir = new TempDirectory();
        // The command started two minutes ago (its loading took them): a one-minute limit is already spent.
        var late = Run(dir.Combine("late"), DateTime.UtcNow.AddMinutes(-2));
        Assert.Equal(0, late.Step);
        Assert.False(late.Completed);
        Assert.True(File.Exists(Path.Combine(dir.Combine("late"), Checkpoint.FileName)), "a run stopped by --max-minutes leaves a checkpoint to resume");

        var inTime = Run(dir.Combine("now"), DateTime.UtcNow);
        Assert.True(inTime.Completed);
        Assert.Equal(3, inTime.Step);
    }
}
