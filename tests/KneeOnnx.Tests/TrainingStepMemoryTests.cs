using System.Runtime.InteropServices;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>
/// The training step frees activations before backward() and the blocks free their unsaved intermediates as they go.
/// The reference is the step and the U-Net forward as written before (every handle in one dispose scope until after
/// optimizer.step()), kept verbatim in the tests: the new step must give the same loss and weights bit for bit, and a
/// lower peak of native memory on the CPU, measured as the process's resident-set high-water mark (reset through
/// /proc/self/clear_refs) with malloc's free pages handed back first.
/// </summary>
public class TrainingStepMemoryTests(ITestOutputHelper log)
{
    private const int Batch = 32;

    [Fact]
    public void NewStepMatchesTheOldBitForBitAndPeaksLower()
    {
        if (!OperatingSystem.IsLinux()) return; // the resident-set high-water mark is read from /proc (CI is Linux)
        set_num_threads(2);
        var (images, grades) = SyntheticKnees.InMemory(8, 32);
        var data = KneeDataset.FromMemory(32, images, grades);
        var config = new TrainConfig { Data = "memory", Preset = Presets.Tiny, Steps = 10, BatchSize = Batch, TrainTimesteps = 100, Seed = 5 };
        var modelConfig = Presets.Get(Presets.Tiny);
        var batches = new BatchBuilder(data, new GradeSampler(data.Grades, config.Balance), config, modelConfig.NullGrade);
        using var objective = new NoiseObjective(config.CreateSchedule(), config.MinSnrGamma, CPU);

        manual_seed(3);
        using var oldModel = new UNet(modelConfig);
        manual_seed(3);
        using var newModel = new UNet(modelConfig);
        using var oldOptimizer = optim.AdamW(oldModel.parameters(), lr: 1e-3, weight_decay: config.WeightDecay);
        using var newOptimizer = optim.AdamW(newModel.parameters(), lr: 1e-3, weight_decay: config.WeightDecay);
        var step = new TrainingStep(newModel, objective, newOptimizer, newModel.parameters().ToArray(), config.GradientClip, CPU);

        var oldPeaks = new List<long>();
        var newPeaks = new List<long>();
        for (long s = 0; s < 4; s++)
        {
            float oldLoss = 0, newLoss = 0;
            long oldPeak = PeakGrowth(() => oldLoss = OldStep(oldModel, objective, oldOptimizer, config.GradientClip, batches, s));
            long newPeak = PeakGrowth(() => newLoss = step.Run(batches, s, _ => { }));
            Assert.Equal(BitConverter.SingleToInt32Bits(oldLoss), BitConverter.SingleToInt32Bits(newLoss));
            log.WriteLine($"step {s}: loss {newLoss:F6}; peak growth old {oldPeak / 1e6:F1} MB, new {newPeak / 1e6:F1} MB");
            if (s == 0) continue; // the first step also allocates AdamW's moments and the gradients
            oldPeaks.Add(oldPeak);
            newPeaks.Add(newPeak);
        }
        var expected = oldModel.state_dict();
        foreach (var (name, tensor) in newModel.state_dict())
            Assert.True(Tensors.Identical(tensor, expected[name]), $"{name} differs between the old and the new step");

        long oldMedian = Median(oldPeaks), newMedian = Median(newPeaks);
        log.WriteLine($"median peak growth over steps 1..3: old {oldMedian / 1e6:F1} MB, new {newMedian / 1e6:F1} MB ({(double)newMedian / oldMedian:P0})");
        // Measured here (2-core EPYC, tiny preset, batch 32): 421 → 305 MB (72 %) on 2026-11-26 in the full suite, 395 → 342 MB
        // (87 %) and 385 → 343 MB (89 %) alone in a fresh clone the same day: the allocator's high-water mark moves with what
        // ran before, so the bound only asks for a drop clearly beyond that noise. The figures themselves belong to the bench.
        Assert.True(newMedian < 0.95 * oldMedian, $"peak native memory did not drop: old {oldMedian} bytes, new {newMedian} bytes");
    }

    /// <summary>The step as Trainer.Run wrote it before: every handle, the forward's included, alive in one scope until after optimizer.step().</summary>
    private static float OldStep(UNet live, NoiseObjective objective, optim.Optimizer optimizer, double clip, BatchBuilder batches, long step)
    {
        using (NewDisposeScope())
        {
            var (images, grades, _, timesteps, noiseSeed) = batches.Build(step);
            using var generator = new Generator((ulong)noiseSeed);
            var noise = randn(images.shape, generator: generator).to(CPU);
            var t = timesteps.to(CPU);
            var noisy = objective.AddNoise(images.to(CPU), noise, t);
            live.train();
            var lossTensor = objective.Loss(ForwardBeforeScopes.Run(live, noisy, t, grades.to(CPU)), noise, t);
            float loss = lossTensor.item<float>();
            optimizer.zero_grad();
            lossTensor.backward();
            nn.utils.clip_grad_norm_(live.parameters(), clip);
            optimizer.step();
            return loss;
        }
    }

    /// <summary>How far the resident set rose above its starting point while <paramref name="action"/> ran.</summary>
    private static long PeakGrowth(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        malloc_trim(0); // hand freed heap pages back so the starting point is what is live, not what was once used
        File.WriteAllText("/proc/self/clear_refs", "5"); // resets VmHWM to the current VmRSS
        long start = StatusBytes("VmRSS:");
        action();
        return StatusBytes("VmHWM:") - start;
    }

    private static long StatusBytes(string key)
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(key, StringComparison.Ordinal));
        return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
    }

    private static long Median(List<long> values) => values.Order().ElementAt(values.Count / 2);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
