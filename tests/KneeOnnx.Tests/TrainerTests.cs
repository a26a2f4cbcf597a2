using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

public class TrainerTests(ITestOutputHelper log)
{
    private static KneeDataset Data(int perGrade = 6)
    {
        var (images, grades) = SyntheticKnees.InMemory(perGrade, 32);
        return KneeDataset.FromMemory(32, images, grades);
    }

    private static TrainConfig Config(int steps, int batch = 4) => new()
    {
        Data = "memory", Preset = Presets.Tiny, Steps = steps, BatchSize = batch, LearningRate = 1e-3, WarmupSteps = 2,
        CheckpointEvery = 1000, TrainTimesteps = 100, Seed = 11,
    };

    private TrainResult Train(TrainConfig config, string dir, KneeDataset data, bool resume = false, long? stopAt = null) =>
        Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = dir, Resume = resume, Threads = 2, Output = new StringWriter(), Preloaded = data, StopAtStep = stopAt, Device = "cpu",
        });

    [Fact]
    public void LossFallsClearlyOnASmallSyntheticSet()
    {
        using var dir = new TempDirectory();
        var result = Train(Config(steps: 160, batch: 8) with { LearningRate = 2e-3, MinSnrGamma = 0 }, dir.Path, Data());
        var rows = LossLog.Read(Path.Combine(dir.Path, LossLog.FileName));
        double first = rows.Take(20).Average(r => r.Loss), last = rows.TakeLast(20).Average(r => r.Loss);
        log.WriteLine($"mean loss first 20 steps {first:F4}, last 20 {last:F4}");
        Assert.Equal(160, rows.Count);
        Assert.True(last < 0.5 * first, $"loss did not fall clearly: {first:F4} → {last:F4}");
        Assert.True(File.Exists(Path.Combine(dir.Path, LossCurvePlot.FileName)));
        Assert.True(result.Completed);
    }

    [Fact]
    public void StoppingAndResumingEqualsOneUninterruptedRun()
    {
        using var straight = new TempDirectory();
        using var split = new TempDirectory();
        var data = Data();
        var config = Config(steps: 8);
        Train(config, straight.Path, data);
        var stopped = Train(config, split.Path, data, stopAt: 4);
        Assert.False(stopped.Completed);
        Assert.Equal(4, Checkpoint.ReadState(Path.Combine(split.Path, Checkpoint.FileName)).Step);
        var resumed = Train(config, split.Path, data, resume: true);
        Assert.True(resumed.Completed);

        foreach (bool raw in new[] { false, true })
        {
            var (_, a) = Checkpoint.LoadModel(Path.Combine(straight.Path, Checkpoint.FileName), raw);
            var (_, b) = Checkpoint.LoadModel(Path.Combine(split.Path, Checkpoint.FileName), raw);
            using (a)
            using (b)
            {
                var expected = a.state_dict();
                foreach (var (name, tensor) in b.state_dict())
                    Assert.True(Tensors.Identical(tensor, expected[name]), $"{(raw ? "raw" : "EMA")} {name} differs after stop + resume");
            }
        }
        var straightLoss = LossLog.Read(Path.Combine(straight.Path, LossLog.FileName)).Select(r => r.Loss);
        var splitLoss = LossLog.Read(Path.Combine(split.Path, LossLog.FileName)).Select(r => r.Loss);
        Assert.Equal(straightLoss, splitLoss);
    }

    [Fact]
    public void AResumeMayChangeThePrecisionAndThenComputesInIt()
    {
        var data = Data();
        var config = Config(steps: 6) with { Precision = "bf16" };
        using var fp32 = new TempDirectory();
        using var fp32Again = new TempDirectory();
        using var bf16 = new TempDirectory();
        foreach (var dir in new[] { fp32, fp32Again, bf16 }) Train(config, dir.Path, data, stopAt: 3);
        string Resume(TempDirectory dir, string? precision)
        {
            var output = new StringWriter();
            var result = Trainer.Run(config, new TrainRunOptions
            {
                RunDirectory = dir.Path, Resume = true, Threads = 2, Output = output, Preloaded = data, Device = "cpu", PrecisionOverride = precision,
            });
            Assert.True(result.Completed);
            return output.ToString();
        }
        Assert.Contains("precision: fp32 from step 3, bf16 before", Resume(fp32, "fp32"));
        Resume(fp32Again, "fp32");
        Assert.Contains("precision: bf16 (the run's)", Resume(bf16, null));

        string Saved(TempDirectory dir) => Checkpoint.ReadState(Path.Combine(dir.Path, Checkpoint.FileName)).Train.Precision!;
        Assert.Equal("fp32", Saved(fp32));
        Assert.Equal("bf16", Saved(bf16));
        var (_, a) = Checkpoint.LoadModel(Path.Combine(fp32.Path, Checkpoint.FileName), raw: true);
        var (_, b) = Checkpoint.LoadModel(Path.Combine(fp32Again.Path, Checkpoint.FileName), raw: true);
        var (_, c) = Checkpoint.LoadModel(Path.Combine(bf16.Path, Checkpoint.FileName), raw: true);
        using (a)
        using (b)
        using (c)
        {
            var again = b.state_dict();
            var stayed = c.state_dict();
            bool anyDiffers = false;
            foreach (var (name, tensor) in a.state_dict())
            {
                Assert.True(Tensors.Identical(tensor, again[name]), $"{name}: the same switched resume twice gave other bytes");
                anyDiffers |= !Tensors.Identical(tensor, stayed[name]);
            }
            // Three steps of fp32 arithmetic cannot round every weight as bf16 does: identical weights would mean the switch was ignored.
            Assert.True(anyDiffers, "the fp32 resume computed exactly what the bf16 one did");
        }
    }

    [Fact]
    public void NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint()
    {
        using var dir = new TempDirectory();
        var data = Data(perGrade: 2);
        var config = Config(steps: 6) with { CheckpointEvery = 3 };
        Train(config, dir.Path, data, stopAt: 3);
        string checkpoint = Path.Combine(dir.Path, Checkpoint.FileName);
        byte[] good = File.ReadAllBytes(checkpoint);

        foreach (var image in data.Images) image[0] = float.NaN;
        var e = Assert.Throws<TrainingDivergedException>(() => Train(config, dir.Path, data, resume: true));
        Assert.Contains("step 4", e.Message);
        Assert.Contains("step 3", e.Message);
        Assert.Equal(good, File.ReadAllBytes(checkpoint));
    }

    [Fact]
    public void RefusesToOverwriteAnExistingRunWithoutResume()
    {
        using var dir = new TempDirectory();
        var data = Data(perGrade: 1);
        Train(Config(steps: 1), dir.Path, data);
        var e = Assert.Throws<ArgumentException>(() => Train(Config(steps: 1), dir.Path, data));
        Assert.Contains("--resume", e.Message);
    }
}
