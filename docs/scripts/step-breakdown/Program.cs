// Times each phase of the trainer's U-Net step (the same calls TrainingStep and the EMA make, in the same order) in fp32
// and in bf16: median of 10 steps after 4 warm-up. It loads libtorch the way kneeonnx-train does, so run it with that
// build's dependency file (from the repository root, after `dotnet build training/KneeOnnx.Training -c Release`):
//   dotnet build docs/scripts/step-breakdown -c Release
//   B=training/KneeOnnx.Training/bin/Release/net10.0; cp docs/scripts/step-breakdown/bin/Release/net10.0/step-breakdown.dll $B/
//   dotnet exec --runtimeconfig $B/kneeonnx-train.runtimeconfig.json --depsfile $B/kneeonnx-train.deps.json $B/step-breakdown.dll latent-xs 32
using System.Diagnostics;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Bench;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Precision;
using KneeOnnx.Training.Runs;
using TorchSharp;
using static TorchSharp.torch;

string network = args.Length > 0 ? args[0] : "latent-xs";
int batch = args.Length > 1 ? int.Parse(args[1]) : 32;
torch.set_num_threads(2);
foreach (var bf16 in new[] { false, true })
{
    manual_seed(1);
    var unetConfig = Presets.Get(network, nullGrade: true, channels: Presets.IsLatent(network) ? 4 : 1);
    var train = new TrainConfig { Data = "random", Preset = network, BatchSize = batch, Seed = 1 };
    var unet = new UNet(unetConfig);
    var emaNet = new UNet(unetConfig);
    var ema = new ExponentialMovingAverage(unet, emaNet, 0.999);
    var optimizer = optim.AdamW(unet.parameters(), lr: 1e-4);
    var objective = new NoiseObjective(train.CreateSchedule(), 5, CPU);
    var set = new RandomTrainingSet(64, unetConfig.Channels, unetConfig.ImageSize, 3);
    var batches = new BatchBuilder(set, new GradeSampler(set.Grades, train.Balance), train, unetConfig.NullGrade);
    var c = bf16 ? new BFloat16Compute(unet, new UNet(unetConfig)) : null;
    var ps = unet.parameters().ToArray();
    Console.WriteLine($"{network} params tensors {ps.Length}, elements {ps.Sum(p => p.numel())}");
    var times = new Dictionary<string, List<double>>();
    void T(string k, Action a) { var sw = Stopwatch.StartNew(); a(); sw.Stop(); (times.TryGetValue(k, out var l) ? l : times[k] = new()).Add(sw.Elapsed.TotalMilliseconds); }
    for (int step = 0; step < 14; step++)
    {
        using var stepScope = NewDisposeScope();
        Tensor loss = null!;
        nn.Module net = unet;
        T("pull", () => { net = c is null ? unet : c.PullWeights(true); });
                T("forward", () =>
        {
            using (NewDisposeScope())
            {
                var (images, grades, sides, timesteps, noiseSeed) = batches.Build(step);
                using var generator = new Generator((ulong)noiseSeed);
                var noise = randn(images.shape, generator: generator);
                var noisy = objective.AddNoise(images, noise, timesteps);
                net.train();
                var input = c is null ? noisy : noisy.to_type(ScalarType.BFloat16);
                var predicted = ((UNet)net).forward(input, timesteps, grades, sides).to_type(ScalarType.Float32);
                loss = objective.Loss(predicted, objective.Target(images, noise, timesteps), timesteps).MoveToOuterDisposeScope();
            }
            loss.item<float>();
        });
        T("zero_grad", () => optimizer.zero_grad());
        T("backward", () => loss.backward());
        T("push", () => c?.PushGradients());
        T("clip", () => nn.utils.clip_grad_norm_(ps, 1.0));
        T("adamw", () => optimizer.step());
        T("ema", () => ema.Update(step));
    }
    double total = 0;
    foreach (var (k, l) in times) { var m = TimingStats.Median(l.Skip(4).ToArray()); total += m; Console.WriteLine($"  {(bf16 ? "bf16" : "fp32")} {k,-10} {m,8:F1} ms"); }
    Console.WriteLine($"  {(bf16 ? "bf16" : "fp32")} total {total:F1} ms -> {batch / total * 1000:F1} img/s");
}
