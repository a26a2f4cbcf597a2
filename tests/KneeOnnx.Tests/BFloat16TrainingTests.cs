using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Precision;
using KneeOnnx.Training.Runs;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>
/// A bf16 training step against the fp32 one on the same tiny U-Net, batch and weights. The reference is the fp32 step
/// computed independently by the same code path without the bf16 copy.
/// </summary>
public class BFloat16TrainingTests(ITestOutputHelper log)
{
    /// <summary>
    /// AdamW's first step moves every weight by lr·g/(|g|+ε) ≈ ±lr, so with lr = 1e-6 the fp32 update is a vector of ±1e-6
    /// whose signs are the gradient's. bf16 keeps 8 significant bits (relative spacing 2⁻⁸ ≈ 0.4 %): forward and backward
    /// in bf16 change a gradient's sign only where it is near zero, so nearly all signs must agree with fp32's. A step of
    /// 1e-6 is far below bf16's spacing at these weights' size (|w| ≈ 0.05 → spacing ≈ 2.4e-4), so a network whose master
    /// weights were bf16 would not move at all: the test checks that counterfactual too, so it could tell the difference.
    /// </summary>
    [Fact]
    public void ABf16StepUpdatesTheFp32MasterAsTheFp32StepDoes()
    {
        var (modelConfig, batches, objective) = TinyRun(seed: 5, steps: 1);
        using var _ = objective;
        const double lr = 1e-6;

        manual_seed(11);
        using var fp32 = new UNet(modelConfig);
        manual_seed(11);
        using var master = new UNet(modelConfig);
        var before = master.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var fp32Optimizer = optim.AdamW(fp32.parameters(), lr: lr, weight_decay: 0);
        using var masterOptimizer = optim.AdamW(master.parameters(), lr: lr, weight_decay: 0);
        float fp32Loss = new TrainingStep(fp32, objective, fp32Optimizer, fp32.parameters().ToArray(), 1e9, CPU).Run(batches, 0, _ => { });
        using var bf16 = new BFloat16Compute(master, new UNet(modelConfig));
        float bf16Loss = new TrainingStep(master, objective, masterOptimizer, master.parameters().ToArray(), 1e9, CPU, bf16).Run(batches, 0, _ => { });

        Assert.All(master.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        var reference = fp32.state_dict();
        long agree = 0, total = 0, bf16MasterMoved = 0;
        double updateNorm = 0, referenceNorm = 0;
        foreach (var (name, w) in master.state_dict())
        {
            var start = before[name];
            var update = (w - start).flatten().data<float>().ToArray();
            var expected = (reference[name] - start).flatten().data<float>().ToArray();
            // What a bf16 master would hold after the same fp32 update: the start and the result rounded to bf16.
            var roundedMove = (w.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32) - start.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32))
                .flatten().data<float>().ToArray();
            for (int i = 0; i < update.Length; i++)
            {
                if (expected[i] == 0) continue; // a weight the batch gives no gradient (unused embedding rows)
                total++;
                if (Math.Sign(update[i]) == Math.Sign(expected[i])) agree++;
                if (roundedMove[i] != 0) bf16MasterMoved++;
                updateNorm += (double)update[i] * update[i];
                referenceNorm += (double)expected[i] * expected[i];
            }
        }
        double agreement = (double)agree / total, normRatio = Math.Sqrt(updateNorm / referenceNorm), bf16Moved = (double)bf16MasterMoved / total;
        log.WriteLine($"loss fp32 {fp32Loss:F5} bf16 {bf16Loss:F5}; {total} weights: sign agreement {agreement:P2}, update norm ratio {normRatio:F4}; a bf16 master would move {bf16Moved:P2}");
        Assert.True(Math.Abs(bf16Loss - fp32Loss) < 0.02 * fp32Loss, $"bf16 loss {bf16Loss} vs fp32 {fp32Loss}");
        Assert.True(agreement > 0.95, $"only {agreement:P2} of the bf16 step's updates have the fp32 step's sign");
        Assert.InRange(normRatio, 0.97, 1.03);
        Assert.True(bf16Moved < 0.05, $"a bf16 master would still have moved {bf16Moved:P2} of the weights: the test could not tell it apart");
    }

    [Fact]
    public void TheSameBf16StepTwiceGivesTheSameBytes()
    {
        var (modelConfig, batches, objective) = TinyRun(seed: 9, steps: 2);
        using var _ = objective;
        Dictionary<string, Tensor> Train()
        {
            manual_seed(4);
            var model = new UNet(modelConfig);
            using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3);
            using var bf16 = new BFloat16Compute(model, new UNet(modelConfig));
            var step = new TrainingStep(model, objective, optimizer, model.parameters().ToArray(), 1, CPU, bf16);
            for (long s = 0; s < 2; s++) step.Run(batches, s, _ => { });
            return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        }
        var first = Train();
        var second = Train();
        foreach (var (name, tensor) in first)
            log.WriteLine($"{name}: {(tensor - second[name]).abs().max().item<float>()}");
        foreach (var (name, tensor) in first)
            Assert.True(Tensors.Identical(tensor, second[name]), $"{name} differs between two identical bf16 runs");
    }

    /// <summary>
    /// The bench's channels-last lever must change only the memory layout. Plain SGD makes each weight's update its
    /// gradient times the rate, so the two steps' updates compare the two layouts' gradients: other oneDNN kernels may
    /// differ by rounding (fp32, ≈ 1e-6 relative), an image read the wrong way round would change them entirely.
    /// </summary>
    [Fact]
    public void AChannelsLastStepComputesWhatTheDefaultLayoutDoes()
    {
        var (modelConfig, batches, objective) = TinyRun(seed: 6, steps: 1);
        using var _ = objective;
        (float Loss, float[] Update) Step(bool channelsLast)
        {
            manual_seed(12);
            var model = new UNet(modelConfig);
            var before = model.parameters().Select(p => p.detach().clone()).ToArray();
            using var optimizer = optim.SGD(model.parameters(), 0.1);
            float loss = new TrainingStep(model, objective, optimizer, model.parameters().ToArray(), 1e9, CPU, channelsLast: channelsLast).Run(batches, 0, _ => { });
            var update = model.parameters().Zip(before, (p, b) => (p.detach() - b).flatten().data<float>().ToArray()).SelectMany(u => u).ToArray();
            return (loss, update);
        }
        var (nchwLoss, nchw) = Step(false);
        var (nhwcLoss, nhwc) = Step(true);
        double difference = Math.Sqrt(nchw.Zip(nhwc, (a, b) => (double)(a - b) * (a - b)).Sum());
        double norm = Math.Sqrt(nchw.Sum(a => (double)a * a));
        log.WriteLine($"loss NCHW {nchwLoss:F7} NHWC {nhwcLoss:F7}; update difference {difference / norm:E2} of the update's norm {norm:E3}");
        Assert.True(norm > 0, "the SGD step moved nothing");
        Assert.True(Math.Abs(nchwLoss - nhwcLoss) < 1e-4 * nchwLoss, $"channels-last loss {nhwcLoss} vs {nchwLoss}");
        Assert.True(difference < 1e-3 * norm, $"a channels-last step's update differs by {difference / norm:P3} of its norm");
    }

    /// <summary>The tiny U-Net's configuration, a batch source of 8 synthetic 32² knees and a 100-step ε objective.</summary>
    private static (UNetConfig Model, BatchBuilder Batches, NoiseObjective Objective) TinyRun(long seed, int steps)
    {
        set_num_threads(2);
        var (images, grades) = SyntheticKnees.InMemory(8, 32);
        var data = KneeDataset.FromMemory(32, images, grades);
        var config = new TrainConfig { Data = "memory", Preset = Presets.Tiny, Steps = steps, BatchSize = 8, TrainTimesteps = 100, Seed = seed };
        var modelConfig = Presets.Get(Presets.Tiny, nullGrade: true);
        var batches = new BatchBuilder(data, new GradeSampler(data.Grades, config.Balance), config, modelConfig.NullGrade);
        return (modelConfig, batches, new NoiseObjective(config.CreateSchedule(), 0, CPU));
    }

    [Fact]
    public void PrecisionDefaultsFollowTheCpuAndRefuseUnknownNames()
    {
        var (chosen, line) = TrainingPrecision.Resolve(null, CPU);
        if (TrainingPrecision.CpuBf16Flag() is null) Assert.Equal(TrainingPrecision.Fp32, chosen);
        Assert.StartsWith("precision: " + chosen, line);
        Assert.Equal(TrainingPrecision.Fp32, TrainingPrecision.Resolve("fp32", CPU).Precision);
        var e = Assert.Throws<ArgumentException>(() => TrainingPrecision.Resolve("fp16", CPU));
        Assert.Contains("--precision 'fp16'", e.Message);
    }

    /// <summary>
    /// The default follows what `bench --training-only` measured on this project's machines: bf16 faster on the 2-core AMD
    /// EPYCs with AVX-512 BF16 (1.5–2.75×, docs/bench-training.md), slower on the 2-core Intel Xeon guests that list AVX-512
    /// BF16 but no AMX (0.6–0.87× for every network, docs/bench-training-xeon.md); AMX is where Intel's bf16 is fast.
    /// </summary>
    [Theory]
    [InlineData("AuthenticAMD", "fma avx512f avx512_bf16 avx512_vnni", "bf16")]
    [InlineData("GenuineIntel", "fma avx512f avx512_bf16 avx512_vnni avx512_fp16", "fp32")]
    [InlineData("GenuineIntel", "fma avx512f avx512_bf16 amx_bf16 amx_tile", "bf16")]
    [InlineData("AuthenticAMD", "fma avx2", "fp32")]
    [InlineData("", "", "fp32")]
    public void TheCpuDefaultIsThePrecisionMeasuredFasterOnThatKindOfCpu(string vendor, string flags, string expected)
    {
        var (chosen, line) = TrainingPrecision.DefaultForCpu(vendor, flags.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(expected, chosen);
        Assert.StartsWith("precision: " + expected, line);
    }
}
