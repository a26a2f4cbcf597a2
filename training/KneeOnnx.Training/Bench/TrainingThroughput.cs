using System.Text.Json.Nodes;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Backbones;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Precision;
using KneeOnnx.Training.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Bench;

/// <summary>
/// Training images per second of each network in each precision, through the trainers' own step classes (forward,
/// backward, clipping, optimiser) on seeded random data: the U-Net presets at their grids (latent ones on 4-channel
/// latents), the autoencoder presets on their crops with critic and perceptual loss on (its most expensive phase), and
/// the classifier backbones at their default input sizes (ResNet-18 at 224², the small CNN at 64²).
/// </summary>
public static class TrainingThroughput
{
    public static readonly string[] DefaultNetworks = [Presets.Small, Presets.LatentSmall, Presets.LatentMedium, AutoencoderPresets.F4];

    /// <summary>Every name <see cref="Measure"/> takes: U-Net presets, autoencoder presets, classifier backbones.</summary>
    public static bool IsKnown(string network) =>
        Presets.Names.Contains(network) || AutoencoderPresets.Names.Contains(network) || Classifier.ClassifierBackbone.All.Contains(network);

    /// <param name="channelsLast">U-Nets only: their input laid out channels-last (see <see cref="TrainingStep"/>).</param>
    public static JsonObject Measure(IReadOnlyList<string> networks, int batch, int warmup, int repeats, TextWriter log, bool channelsLast = false)
    {
        var precisions = TrainingPrecision.CpuBf16Flag() is null ? new[] { TrainingPrecision.Fp32 } : [TrainingPrecision.Fp32, TrainingPrecision.Bf16];
        var rows = new JsonArray();
        foreach (var network in networks)
        {
            var row = new JsonObject { ["network"] = network, ["batch"] = batch };
            var runs = new List<Run>();
            try
            {
                foreach (var precision in precisions) runs.Add(Start(network, batch, precision, channelsLast));
                var seconds = Interleaved(runs.Select(r => r.Step).ToArray(), warmup, repeats);
                for (int i = 0; i < precisions.Length; i++)
                {
                    var timing = TimingStats.Of(seconds[i]);
                    double rate = batch / timing.MedianSeconds;
                    row[precisions[i]] = new JsonObject { ["imagesPerSecond"] = Math.Round(rate, 2), ["medianMs"] = Math.Round(timing.MedianSeconds * 1e3, 1), ["spread"] = Math.Round(timing.Spread, 3) };
                    log.WriteLine($"training {network}, batch {batch}, {precisions[i]}{(channelsLast && IsUNet(network) ? ", channels-last" : "")}: {rate:F1} images/s ({timing.MedianSeconds * 1e3:F0} ms/step, spread {timing.Spread:P0})");
                }
                if (precisions.Length == 2)
                {
                    row["bf16OverFp32"] = Math.Round(row[TrainingPrecision.Bf16]!["imagesPerSecond"]!.GetValue<double>() / row[TrainingPrecision.Fp32]!["imagesPerSecond"]!.GetValue<double>(), 2);
                    row["bf16OverFp32Paired"] = Math.Round(PairedRatio(seconds[0], seconds[1]), 2);
                }
            }
            finally
            {
                foreach (var run in runs) run.Dispose();
            }
            rows.Add(row);
        }
        return new JsonObject { ["batch"] = batch, ["channelsLast"] = channelsLast, ["precisions"] = new JsonArray(precisions.Select(p => (JsonNode)p).ToArray()), ["cpuBf16Flag"] = TrainingPrecision.CpuBf16Flag(), ["networks"] = rows };
    }

    /// <summary>
    /// Times one step of every run per round, the order flipped each round, so that a machine whose speed drifts
    /// over minutes (shared hosts do) slows every precision alike instead of whichever happened to run second.
    /// </summary>
    /// <returns>Per run, the seconds of each timed round.</returns>
    public static double[][] Interleaved(IReadOnlyList<Action> steps, int warmup, int repeats)
    {
        if (repeats < 1) throw new ArgumentException($"--repeats must be at least 1, got {repeats}");
        for (int w = 0; w < warmup; w++)
            foreach (var step in steps) step();
        var seconds = steps.Select(_ => new double[repeats]).ToArray();
        for (int r = 0; r < repeats; r++)
            for (int k = 0; k < steps.Count; k++)
            {
                int i = r % 2 == 0 ? k : steps.Count - 1 - k;
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                steps[i]();
                seconds[i][r] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        return seconds;
    }

    /// <summary>Median over rounds of the fp32 ÷ bf16 step time: the speed-up measured within each round.</summary>
    public static double PairedRatio(IReadOnlyList<double> fp32Seconds, IReadOnlyList<double> bf16Seconds) =>
        TimingStats.Median(fp32Seconds.Zip(bf16Seconds, (a, b) => a / b).ToArray());

    /// <summary>A training run of one network whose <see cref="Run.Step"/> runs its next step; disposing frees its tensors.</summary>
    private sealed class Run(Action step, params IDisposable?[] owned) : IDisposable
    {
        public Action Step { get; } = step;

        public void Dispose()
        {
            foreach (var o in owned) o?.Dispose();
        }
    }

    private static bool IsUNet(string network) => Presets.Names.Contains(network);

    private static Run Start(string network, int batch, string precision, bool channelsLast)
    {
        manual_seed(1);
        bool bf16 = precision == TrainingPrecision.Bf16;
        long step = 0;
        if (Classifier.ClassifierBackbone.All.Contains(network))
        {
            var classifier = Classifier.ClassifierConfig.ForBackbone(network);
            int side = classifier.ImageSize;
            var net = Classifier.ClassifierBackbone.Initial(network, classifier.Widths, KlGrades.Count);
            var classifierOptimizer = optim.AdamW(net.parameters(), lr: classifier.LearningRate, weight_decay: 1e-4);
            var netBf16 = bf16 ? new BFloat16Compute(net, Classifier.ClassifierBackbone.Create(network, classifier.Widths, KlGrades.Count)) : null;
            var random = new Random(3);
            var pixels = Enumerable.Range(0, batch * side * side).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var labels = Enumerable.Range(0, batch).Select(i => (long)(i % KlGrades.Count)).ToArray();
            net.train();
            return new Run(() => Classifier.ClassifierStep.Run(net, classifierOptimizer, netBf16, pixels, labels, side), netBf16, classifierOptimizer, net);
        }
        if (AutoencoderPresets.Names.Contains(network))
        {
            var modelConfig = AutoencoderPresets.Get(network);
            var config = new AutoencoderTrainConfig { Data = "random", Preset = network, BatchSize = batch, Crop = Math.Min(64, modelConfig.ImageSize), AdversarialStart = 0 };
            var random = new Random(3);
            var images = Enumerable.Range(0, 32).Select(_ => Enumerable.Range(0, modelConfig.ImageSize * modelConfig.ImageSize).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
            var data = KneeDataset.FromMemory(modelConfig.ImageSize, images, images.Select((_, i) => i % KlGrades.Count).ToArray());
            var model = new KneeAutoencoder(modelConfig);
            var critic = new PatchDiscriminator();
            var modelOptimizer = optim.Adam(model.parameters(), lr: 1e-4, beta1: 0.5, beta2: 0.9);
            var criticOptimizer = optim.Adam(critic.parameters(), lr: 1e-4, beta1: 0.5, beta2: 0.9);
            var perceptual = new PerceptualLoss(ResNet18Weights.Load(), TrainingPrecision.ScalarTypeOf(precision), CPU);
            var modelBf16 = bf16 ? new BFloat16Compute(model, new KneeAutoencoder(modelConfig)) : null;
            var criticBf16 = bf16 ? new BFloat16Compute(critic, new PatchDiscriminator()) : null;
            var aeStep = new AutoencoderStep(model, critic, perceptual, modelOptimizer, criticOptimizer, config, CPU, modelBf16, criticBf16);
            var crops = new CropBatchBuilder(data, config);
            return new Run(() => aeStep.Run(crops, step++, _ => { }), modelBf16, criticBf16, perceptual, modelOptimizer, criticOptimizer, model, critic);
        }
        var unetConfig = Presets.Get(network, nullGrade: true, channels: Presets.IsLatent(network) ? 4 : 1);
        var train = new TrainConfig { Data = "random", Preset = network, BatchSize = batch, Seed = 1 };
        var unet = new UNet(unetConfig);
        var optimizer = optim.AdamW(unet.parameters(), lr: 1e-4);
        var objective = new NoiseObjective(train.CreateSchedule(), 5, CPU);
        var set = new RandomTrainingSet(64, unetConfig.Channels, unetConfig.ImageSize, 3);
        var batches = new BatchBuilder(set, new GradeSampler(set.Grades, train.Balance), train, unetConfig.NullGrade);
        var unetBf16 = bf16 ? new BFloat16Compute(unet, new UNet(unetConfig)) : null;
        var trainingStep = new TrainingStep(unet, objective, optimizer, unet.parameters().ToArray(), 1.0, CPU, unetBf16, channelsLast);
        return new Run(() => trainingStep.Run(batches, step++, _ => { }), unetBf16, objective, optimizer, unet);
    }
}
