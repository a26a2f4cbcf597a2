using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests.Reliability;

/// <summary>--resume --steps N below the checkpoint's step used to report "finished at step 3/2" and rewrite config.json.</summary>
public class ResumeStepsTests
{
    [Fact]
    public void ATotalBelowTheStepsDoneIsRefusedBeforeTheRunIsTouched()
    {
        using var dir = new TempDirectory();
        string run = dir.Combine("run");
        string checkpoint = TinyRuns.Train(run, steps: 3);
        var before = Refusal.Tree(run).ToDictionary(f => f, File.ReadAllBytes);

        var result = InProcessCli.Train("train", "--resume", "--out", run, "--steps", "2", "--threads", "1");

        Refusal.Check(result, $"--steps 2 is below the 3 steps {checkpoint} has already done");
        Assert.Equal(before.Keys, Refusal.Tree(run));
        foreach (var (file, bytes) in before)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(file)), $"{file} changed");
        Assert.Equal(3, Checkpoint.ReadState(checkpoint).Step);
    }
}
