using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Precision;
using KneeOnnx.Training.Runs;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>
/// A step whose batch goes through forward and backward in pieces must apply the gradient of the whole batch's mean loss.
/// The reference is the same step on the whole batch at once. Plain SGD with no clipping makes each weight's update the
/// gradient times the rate, so the updates compare the gradients themselves (AdamW would hide a wrong scale: it divides
/// the gradient by its own size). The objective is min-SNR-5 weighted, so each image's weight depends on its timestep.
/// </summary>
public class MicroBatchTests(ITestOutputHelper log)
{
    private const int Batch = 8;

    [Theory]
    [InlineData(4)] // two equal pieces
    [InlineData(3)] // 3 + 3 + 2: a short last piece must count for its share only
    [InlineData(1)]
    public void AStepInPiecesAppliesTheWholeBatchsGradient(int piece)
    {
        var (modelConfig, batches, objective) = TinyRun(seed: 21);
        using var _ = objective;
        var (wholeLoss, whole) = SgdStep(modelConfig, batches, objective, microBatch: 0, bf16: false);
        var (pieceLoss, pieces) = SgdStep(modelConfig, batches, objective, microBatch: piece, bf16: false);
        double difference = Distance(whole, pieces), norm = Norm(whole);
        log.WriteLine($"pieces of {piece}: loss {pieceLoss:F7} against {wholeLoss:F7}; update difference {difference / norm:E2} of its norm {norm:E3}");
        Assert.True(norm > 0, "the SGD step moved nothing");
        Assert.True(Math.Abs(pieceLoss - wholeLoss) < 1e-5 * wholeLoss, $"loss in pieces {pieceLoss} against {wholeLoss}");
        Assert.True(difference < 1e-4 * norm, $"the update in pieces of {piece} differs by {difference / norm:P4} of the whole batch's");
    }

    /// <summary>
    /// In bf16 each piece's gradient is rounded to bf16 before it is added in fp32, so the two steps agree to bf16's
    /// precision (≈ 2⁻⁸ relative per value), not to fp32's; a piece counted at the wrong weight would be off by its factor.
    /// </summary>
    [Fact]
    public void ABf16StepInPiecesAppliesTheWholeBatchsGradient()
    {
        var (modelConfig, batches, objective) = TinyRun(seed: 22);
        using var _ = objective;
        var (wholeLoss, whole) = SgdStep(modelConfig, batches, objective, microBatch: 0, bf16: true);
        var (pieceLoss, pieces) = SgdStep(modelConfig, batches, objective, microBatch: 2, bf16: true);
        double difference = Distance(whole, pieces), norm = Norm(whole);
        log.WriteLine($"bf16, pieces of 2: loss {pieceLoss:F6} against {wholeLoss:F6}; update difference {difference / norm:E2} of its norm {norm:E3}");
        Assert.True(Math.Abs(pieceLoss - wholeLoss) < 0.02 * wholeLoss, $"loss in pieces {pieceLoss} against {wholeLoss}");
        Assert.True(difference < 0.05 * norm, $"the bf16 update in pieces differs by {difference / norm:P2} of the whole batch's");
    }

    [Fact]
    public void TheTrainVerbRefusesAMicroBatchBelowOne()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Train("train", "--data", dir.Combine("data"), "--out", dir.Combine("run"), "--preset", "tiny", "--micro-batch", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("--micro-batch must be at least 1 image, got 0", err);
        Assert.False(Directory.Exists(dir.Combine("run")));
    }

    /// <summary>A run stopped and resumed without the option keeps computing in its pieces: at batch 512 on a CPU, losing them would run out of memory.</summary>
    [Fact]
    public void AResumedRunKeepsItsMicroBatchUnlessGivenAnother()
    {
        using var dir = new TempDirectory();
        var (images, grades) = SyntheticKnees.InMemory(2, 32);
        var data = KneeDataset.FromMemory(32, images, grades);
        var config = new TrainConfig { Data = "memory", Preset = Presets.Tiny, Steps = 3, BatchSize = 4, MicroBatch = 2, WarmupSteps = 1, Seed = 3 };
        string Run(bool resume, long? stopAt = null, int? microBatch = null)
        {
            var log = new StringWriter();
            Trainer.Run(config, new TrainRunOptions
            {
                RunDirectory = dir.Combine("run"), Resume = resume, Threads = 2, Device = "cpu", Output = log, Preloaded = data, StopAtStep = stopAt, MicroBatchOverride = microBatch,
            });
            return log.ToString();
        }
        Assert.Contains("steps of batch 4, in pieces of 2", Run(resume: false, stopAt: 1));
        Assert.Contains("steps of batch 4, in pieces of 2", Run(resume: true, stopAt: 2));
        Assert.Equal(2, Checkpoint.ReadState(dir.Combine("run", Checkpoint.FileName)).Train.MicroBatch);
        string whole = Run(resume: true, microBatch: 4);
        Assert.Contains("steps of batch 4", whole);
        Assert.DoesNotContain("in pieces", whole);
        Assert.Equal(4, Checkpoint.ReadState(dir.Combine("run", Checkpoint.FileName)).Train.MicroBatch);
    }

    private static (float Loss, float[] Update) SgdStep(UNetConfig modelConfig, BatchBuilder batches, NoiseObjective objective, int microBatch, bool bf16)
    {
        manual_seed(17);
        using var model = new UNet(modelConfig);
        var before = model.parameters().Select(p => p.detach().clone()).ToArray();
        using var optimizer = optim.SGD(model.parameters(), 0.1);
        using var copy = bf16 ? new BFloat16Compute(model, new UNet(modelConfig)) : null;
        float loss = new TrainingStep(model, objective, optimizer, model.parameters().ToArray(), 1e9, CPU, copy, microBatch: microBatch).Run(batches, 0, _ => { });
        var update = model.parameters().Zip(before, (p, b) => (p.detach() - b).flatten().data<float>().ToArray()).SelectMany(u => u).ToArray();
        return (loss, update);
    }

    private static double Norm(float[] a) => Math.Sqrt(a.Sum(x => (double)x * x));

    private static double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Sum());

    /// <summary>The tiny U-Net, a batch source of 8 synthetic 32² knees and a min-SNR-5 v-prediction objective.</summary>
    private static (UNetConfig Model, BatchBuilder Batches, NoiseObjective Objective) TinyRun(long seed)
    {
        set_num_threads(2);
        var (images, grades) = SyntheticKnees.InMemory(Batch, 32);
        var data = KneeDataset.FromMemory(32, images, grades);
        var config = new TrainConfig { Data = "memory", Preset = Presets.Tiny, Steps = 1, BatchSize = Batch, TrainTimesteps = 100, Seed = seed };
        var modelConfig = Presets.Get(Presets.Tiny, nullGrade: true);
        var batches = new BatchBuilder(data, new GradeSampler(data.Grades, config.Balance), config, modelConfig.NullGrade);
        return (modelConfig, batches, new NoiseObjective(config.CreateSchedule(), 5, CPU, KneeOnnx.Diffusion.PredictionType.Velocity));
    }

    /// <summary>
    /// Out of memory, the advice keeps the recipe — halve the pieces, not the batch (whose change would alter the run) —
    /// and names --resume only when the loop has a checkpoint to resume from: a resumed run has one from its first step,
    /// a new run only after its first save.
    /// </summary>
    [Theory]
    [InlineData(512, 32, 0, 0, "run again with --micro-batch 16", "no checkpoint was written yet")]
    [InlineData(16, 0, 0, 2, "try --resume with --micro-batch 8", "the last checkpoint (step 2) is kept")]   // saved every step, failed at the third
    [InlineData(16, 64, 5, 0, "try --resume with --micro-batch 8", "the last checkpoint (step 5) is kept")] // resumed at 5; pieces larger than the batch are the whole batch
    public void OutOfMemoryInTheLoopAdvisesHalfThePiecesAndResumeOnlyFromACheckpoint(int batch, int microBatch, long resumedAt, int failingStep, string advised, string kept)
    {
        using var dir = new TempDirectory();
        var config = new TrainConfig { Data = "d", Preset = Presets.Tiny, BatchSize = batch, MicroBatch = microBatch, Steps = 10 };
        var error = Assert.Throws<KneeOnnx.Runtime.DeviceOutOfMemoryException>(() => RunFailingLoop(dir.Path, resumedAt, failingStep,
            resumable => Trainer.MicroBatchAdvice(config, resumable), batch, () => throw new OutOfMemoryException("out of memory")));
        Assert.Contains(advised, error.Message);
        Assert.Contains($"same batch of {batch}", error.Message);
        Assert.Contains(kept, error.Message);
        Assert.DoesNotContain("smaller --batch", error.Message);
    }

    [Fact]
    public void PiecesOfOneImageLeaveOnlyTheBatchToShrink()
    {
        using var dir = new TempDirectory();
        var config = new TrainConfig { Data = "d", Preset = Presets.Tiny, BatchSize = 8, MicroBatch = 1, Steps = 10 };
        var error = Assert.Throws<KneeOnnx.Runtime.DeviceOutOfMemoryException>(() => RunFailingLoop(dir.Path, 0, 0,
            resumable => Trainer.MicroBatchAdvice(config, resumable), 8, () => throw new OutOfMemoryException("out of memory")));
        Assert.Contains("smaller --batch, e.g. 4", error.Message);
    }

    [Fact]
    public void ADivergedNewRunSaysNoCheckpointWasWrittenRatherThanNamingStepZero()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<TrainingDivergedException>(() => RunFailingLoop(dir.Path, 0, 0, null, 8, reportLoss: float.NaN));
        Assert.Contains("loss became NaN at step 1", error.Message);
        Assert.Contains("no checkpoint was written yet", error.Message);
        Assert.DoesNotContain("(step 0)", error.Message);
    }

    /// <summary>The shared step loop with a step that fails at <paramref name="failingStep"/> (a checkpoint every step before it).</summary>
    private static void RunFailingLoop(string runDir, long resumedAt, int failingStep, Func<bool, string?>? remedy, int batch,
                                       Action? fail = null, float reportLoss = 0.5f)
    {
        using var lossLog = new LossLog(runDir, resumedAt);
        var loop = new StepLoop
        {
            RunDirectory = runDir, CheckpointPath = Path.Combine(runDir, "checkpoint.ckpt"), TotalSteps = 10, BatchSize = batch,
            CheckpointEvery = 1, Options = new TrainRunOptions { RunDirectory = runDir, Output = TextWriter.Null }, LossLog = lossLog,
            Progress = new ProgressLine(TextWriter.Null, false, 50), DivergedAdvice = "lower --lr", RateUnit = "img/s", LossName = "loss",
            OutOfMemoryRemedy = remedy,
        };
        loop.Run(resumedAt, setLearningRate: _ => 1e-4,
            trainStep: (s, check) =>
            {
                if (s == resumedAt + failingStep)
                {
                    fail?.Invoke();
                    check(reportLoss);
                }
                return 0.5;
            },
            afterUpdate: null, afterReport: null, save: _ => { });
    }
}
