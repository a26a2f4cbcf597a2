using System.Diagnostics;
using KneeOnnx.Randomness;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.LibTorch;
using KneeOnnx.Training.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Classifier;

public sealed record ClassifierConfig
{
    public int ImageSize { get; init; } = 64;
    public int[] Widths { get; init; } = [24, 48, 96, 192];
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 2e-3;
    public string Balance { get; init; } = Data.Balance.Sqrt;
    public long Seed { get; init; } = 1;
    public int Threads { get; init; }
    /// <summary>Optimiser steps per epoch; null = one pass over the training set. Fixed by augment-benefit so both runs get the same budget.</summary>
    public int? StepsPerEpoch { get; init; }
    /// <summary>What to predict: <see cref="ClassifierTarget.Grade"/> or <see cref="ClassifierTarget.Side"/>.</summary>
    public string Target { get; init; } = ClassifierTarget.Grade;
    /// <summary>fp32 or bf16 compute (<see cref="Precision.TrainingPrecision"/>); null = chosen from the CPU.</summary>
    public string? Precision { get; init; }
    /// <summary>The network (<see cref="ClassifierBackbone"/>).</summary>
    public string Backbone { get; init; } = ClassifierBackbone.SmallCnn;
    /// <summary>Largest random shift of the image, as a fraction of its side (0 = none), for the pretrained backbone's fine-tuning.</summary>
    public double Translate { get; init; }
    /// <summary>
    /// How the kept classifier is written (<see cref="ClassifierWeights"/>): float16 halves a ResNet-18's 45 MB, and
    /// its recorded val figures are then those of the rounded weights.
    /// </summary>
    public string Weights { get; init; } = ClassifierWeights.Float32;
    /// <summary>
    /// Grade classifiers only: every prediction (the epochs' scoring on val, and every later use of the file) averages
    /// the class probabilities of the image and of its left-right mirror. The training flips make a grade classifier
    /// meant to be blind to the mirror; averaging the two readings removes what is left of its dependence on it.
    /// </summary>
    public bool MirrorAveraging { get; init; }

    /// <summary>
    /// The defaults of a backbone: the small CNN at 64², 2e-3, no shifts; ResNet-18 at the data's 224², 3e-4 (it starts
    /// trained: a larger rate would undo its ImageNet filters) with shifts of up to 6 % of the side.
    /// </summary>
    public static ClassifierConfig ForBackbone(string backbone) => backbone == ClassifierBackbone.ResNet18ImageNet
        ? new ClassifierConfig { Backbone = backbone, ImageSize = 224, LearningRate = 3e-4, Translate = 0.06 }
        : new ClassifierConfig { Backbone = backbone };

    public void Validate()
    {
        if (ImageSize is < 16 or > 512) throw new ArgumentException($"--size must be in 16..512, got {ImageSize}");
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1, got {Epochs}");
        if (BatchSize < 1) throw new ArgumentException($"--batch must be at least 1, got {BatchSize}");
        if (!(LearningRate > 0 && LearningRate < 1)) throw new ArgumentException($"--lr must be in (0, 1), got {LearningRate}");
        if (StepsPerEpoch is < 1) throw new ArgumentException($"steps per epoch must be at least 1, got {StepsPerEpoch}");
        if (!ClassifierTarget.All.Contains(Target)) throw new ArgumentException($"--target '{Target}' is not one of {string.Join(", ", ClassifierTarget.All)}");
        KneeOnnx.Validation.ThreadCount.Validate(Threads);
        if (Precision is not null) Training.Precision.TrainingPrecision.Validate(Precision);
        if (!ClassifierBackbone.All.Contains(Backbone)) throw new ArgumentException($"--backbone '{Backbone}' is not one of {string.Join(", ", ClassifierBackbone.All)}");
        if (!(Translate >= 0 && Translate < 0.5)) throw new ArgumentException($"translation must be in [0, 0.5), got {Translate}");
        if (!ClassifierWeights.All.Contains(Weights)) throw new ArgumentException($"--weights '{Weights}' is not one of {string.Join(", ", ClassifierWeights.All)}");
        if (MirrorAveraging && Target == ClassifierTarget.Side)
            throw new ArgumentException("--mirror-averaging is for grade classifiers: the mirror of a left knee reads as a right one, so a side classifier cannot average the two");
    }
}

/// <summary>
/// Trains the reference KL classifier on the real train split with √-balanced sampling and flips, evaluates on val
/// after every epoch and keeps the epoch with the best quadratic-weighted κ (the ordinal measure the task cares about).
/// The side classifier draws images uniformly, labels a flipped knee with the other side (a flip mirrors the anatomy)
/// and keeps the epoch with the best accuracy.
/// </summary>
public static class ClassifierTrainer
{
    public static ClassifierHeader Train(ClassifierConfig config, KneeDataset train, KneeDataset val, string outFile, TextWriter log) =>
        Run(config, train, val, outFile, log, new ClassifierRunOptions()).Best!;

    /// <summary>
    /// Trains epoch by epoch; with <see cref="ClassifierRunOptions.Checkpoint"/> the state is written after every epoch,
    /// and a run may stop early (<see cref="ClassifierRunOptions.StopBy"/>) and continue later (<see cref="ClassifierRunOptions.Resume"/>).
    /// </summary>
    public static ClassifierOutcome Run(ClassifierConfig config, KneeDataset train, KneeDataset val, string outFile, TextWriter log, ClassifierRunOptions options)
    {
        config.Validate();
        bool bySide = config.Target == ClassifierTarget.Side;
        if (bySide)
            foreach (var set in new[] { train, val })
                if (set.FirstFileWithoutSide() is { } file)
                    throw new ArgumentException($"{file}: the file name states no knee side (expected a name ending in L or R, like 9003175L.png); --target side needs every image's side");
        int classes = ClassifierTarget.ClassNames(config.Target).Count;
        var trainTruth = bySide ? train.Sides : train.Grades;
        var valTruth = bySide ? val.Sides : val.Grades;
        string? checkpoint = options.Checkpoint;
        string configKey = ClassifierCheckpoint.ConfigKey(config);
        string dataSha = checkpoint is null ? "" : ClassifierCheckpoint.DataSha256(train, trainTruth, val, valTruth);
        ClassifierRunState? resumed = null;
        if (checkpoint is not null && File.Exists(checkpoint))
        {
            if (!options.Resume)
                throw new ArgumentException($"{checkpoint}: already holds a classifier run; pass --resume to continue it, or choose another checkpoint");
            resumed = ClassifierCheckpoint.ReadState(checkpoint);
            if (!ClassifierCheckpoint.SameSettings(resumed.Config, config))
                throw new ArgumentException($"{checkpoint}: the run was started with other settings ({resumed.Config}); a resumed run keeps its own (start a new one elsewhere)");
            if (resumed.DataSha256 != dataSha)
                throw new ArgumentException($"{checkpoint}: the training or val images differ from those the run started on; a resumed run must see the same images");
            if (resumed.Best is not null && !File.Exists(outFile))
                throw new ArgumentException($"{outFile}: the run's best epoch so far ({resumed.Best.Epoch}) was saved there and the file is gone; start the run again");
            if (resumed.EpochsDone >= config.Epochs)
            {
                log.WriteLine($"{checkpoint}: finished earlier ({resumed.EpochsDone} epochs); kept epoch {resumed.Best?.Epoch}");
                return new ClassifierOutcome(resumed.Best, true, resumed.EpochsDone, resumed.EpochSeconds is double s ? TimeSpan.FromSeconds(s) : null, resumed.Seconds);
            }
        }
        TimeSpan? epochTime = resumed?.EpochSeconds is double known ? TimeSpan.FromSeconds(known) : options.Clock.Last;
        if (options.StopBy is DateTime stopBy && epochTime is TimeSpan expected && DateTime.UtcNow + expected > stopBy)
        {
            log.WriteLine($"not started: an epoch takes about {expected.TotalMinutes:F1} min, more than the time left");
            return new ClassifierOutcome(resumed?.Best, false, resumed?.EpochsDone ?? 0, epochTime, resumed?.Seconds ?? 0);
        }

        TorchDevice.SetThreads(config.Threads);
        manual_seed(config.Seed);
        using var net = ClassifierBackbone.Initial(config.Backbone, config.Widths, classes);
        using var optimizer = optim.AdamW(net.parameters(), lr: config.LearningRate, weight_decay: 1e-4);
        if (resumed is not null)
        {
            ClassifierCheckpoint.Restore(checkpoint!, net, optimizer);
            log.WriteLine($"resumed from {checkpoint} after epoch {resumed.EpochsDone}/{config.Epochs}"
                + (resumed.Best is { } b ? $" (best so far: epoch {b.Epoch}, val accuracy {b.ValAccuracy:F3}, κ {b.ValQuadraticKappa:F3})" : ""));
        }
        var (precision, precisionLine) = Precision.TrainingPrecision.Resolve(config.Precision, CPU);
        log.WriteLine(precisionLine);
        using var bf16 = precision == Precision.TrainingPrecision.Bf16 ? new Precision.BFloat16Compute(net, ClassifierBackbone.Create(config.Backbone, config.Widths, classes)) : null;
        var sampler = bySide ? new GradeSampler(train.Sides, Data.Balance.None, KneeSides.Count) : new GradeSampler(train.Grades, config.Balance);
        int side = config.ImageSize, area = side * side;
        int stepsPerEpoch = config.StepsPerEpoch ?? Math.Max(1, train.Count / config.BatchSize);
        long totalSteps = (long)stepsPerEpoch * config.Epochs;
        var pixels = new float[config.BatchSize * area];
        var labels = new long[config.BatchSize];
        ClassifierHeader? best = resumed?.Best;
        double before = resumed?.Seconds ?? 0;
        // One reading per epoch for the checkpoint and the outcome alike: the time a later invocation reads back is the
        // time this one reported.
        double seconds = before;
        var timer = Stopwatch.StartNew();
        // Verdicts run for hours beside other work: where the CPU went, after the first minute and then every five (see ProcessHealth).
        var health = new Runs.ProcessHealth();
        var nextHealth = TimeSpan.FromMinutes(1);
        for (int epoch = (resumed?.EpochsDone ?? 0) + 1; epoch <= config.Epochs; epoch++)
        {
            var epochTimer = Stopwatch.StartNew();
            // Dropout draws from torch's generator: reseeded per epoch, so a run resumed at an epoch boundary repeats it exactly.
            manual_seed(SplitMix64.For(config.Seed, epoch, 7).NextSeed());
            net.train();
            double lossSum = 0;
            for (int s = 0; s < stepsPerEpoch; s++)
            {
                long step = (long)(epoch - 1) * stepsPerEpoch + s;
                var rng = SplitMix64.For(config.Seed, step, 2);
                for (int b = 0; b < config.BatchSize; b++)
                {
                    int index = sampler.Next(ref rng);
                    var source = train.Images[index];
                    bool flip = rng.NextDouble() < 0.5;
                    float gain = 0.9f + 0.2f * (float)rng.NextDouble(), bias = 0.1f * ((float)rng.NextDouble() - 0.5f);
                    int reach = (int)(config.Translate * side), dx = 0, dy = 0;
                    if (reach > 0)
                    {
                        dx = rng.NextInt(2 * reach + 1) - reach;
                        dy = rng.NextInt(2 * reach + 1) - reach;
                    }
                    for (int y = 0; y < side; y++)
                    {
                        int sy = Math.Clamp(y + dy, 0, side - 1); // the edge row repeats where the shift runs off the image
                        for (int x = 0; x < side; x++)
                        {
                            int sx = Math.Clamp((flip ? side - 1 - x : x) + dx, 0, side - 1);
                            pixels[b * area + y * side + x] = Math.Clamp(gain * source[sy * side + sx] + bias, -1f, 1f);
                        }
                    }
                    labels[b] = bySide ? (flip ? KneeSides.Mirror(train.Sides[index]) : train.Sides[index]) : train.Grades[index];
                }
                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = LearningRateSchedule.At(step, config.LearningRate, stepsPerEpoch / 2, totalSteps, 0.02);
                lossSum += ClassifierStep.Run(net, optimizer, bf16, pixels, labels, side);
            }
            // Selected on, and recorded with, the weights the file will hold: a float16 file's are the rounded ones.
            using var stored = config.Weights == ClassifierWeights.Float16 ? ClassifierWeights.RoundedToFloat16(net, config.Backbone, config.Widths) : null;
            var metrics = ClassificationMetrics.Of(valTruth, Predict(stored ?? net, val.Images, side, config.MirrorAveraging), classes);
            bool improved = best is null || (bySide ? metrics.Accuracy > best.ValAccuracy : metrics.QuadraticKappa > best.ValQuadraticKappa);
            log.WriteLine($"epoch {epoch}/{config.Epochs}: train loss {lossSum / stepsPerEpoch:F3}; val accuracy {metrics.Accuracy:F3}, κ {metrics.QuadraticKappa:F3}, MAE {metrics.MeanAbsoluteError:F3}"
                + $"{(stored is null ? "" : " (float16 weights)")} ({before + timer.Elapsed.TotalSeconds:F0}s){(improved ? " *" : "")}");
            if (timer.Elapsed >= nextHealth)
            {
                log.WriteLine(health.Line());
                nextHealth = timer.Elapsed + TimeSpan.FromMinutes(5);
            }
            if (improved)
            {
                best = new ClassifierHeader
                {
                    Target = config.Target, ImageSize = side, Widths = config.Widths, Backbone = config.Backbone, Epoch = epoch, ValAccuracy = metrics.Accuracy,
                    ValQuadraticKappa = metrics.QuadraticKappa, ValMeanAbsoluteError = metrics.MeanAbsoluteError, ValRecall = metrics.Recall,
                    ValMacroF1 = metrics.MacroF1, DatasetSha256 = train.Sha256, Weights = config.Weights, MirrorAveraging = config.MirrorAveraging,
                    ValConfusion = Enumerable.Range(0, classes).Select(t => Enumerable.Range(0, classes).Select(p => metrics.Confusion[t, p]).ToArray()).ToArray(),
                };
                ClassifierFile.Save(outFile, best, stored ?? net);
            }
            epochTime = epochTimer.Elapsed;
            options.Clock.Last = epochTime;
            seconds = Math.Round(before + timer.Elapsed.TotalSeconds, 3);
            if (checkpoint is not null)
                ClassifierCheckpoint.Write(checkpoint, new ClassifierRunState
                {
                    Config = configKey, DataSha256 = dataSha, EpochsDone = epoch, Best = best, Seconds = seconds,
                    EpochSeconds = Math.Round(epochTime.Value.TotalSeconds, 1),
                }, net, optimizer);
            if (epoch < config.Epochs && options.StopBy is DateTime deadline && DateTime.UtcNow + epochTime.Value > deadline)
            {
                log.WriteLine($"stopped after epoch {epoch}/{config.Epochs}: the next would end after the time allowed" + (checkpoint is null ? "" : $"; continue with --resume from {checkpoint}"));
                return new ClassifierOutcome(best, false, epoch, epochTime, seconds);
            }
        }
        return new ClassifierOutcome(best, true, config.Epochs, epochTime, seconds);
    }

    /// <summary>Most likely class of each image (eval mode, no gradients, batches of 128).</summary>
    public static int[] Predict(ClassifierNet net, IReadOnlyList<float[]> images, int side, bool mirrorAveraging = false) =>
        Probabilities(net, images, side, mirrorAveraging).Select(p => Array.IndexOf(p, p.Max())).ToArray();

    /// <param name="mirrorAveraging">Average each image's class probabilities with those of its left-right mirror (<see cref="ClassifierConfig.MirrorAveraging"/>).</param>
    public static float[][] Probabilities(ClassifierNet net, IReadOnlyList<float[]> images, int side, bool mirrorAveraging = false)
    {
        net.eval();
        using var _ = no_grad();
        var result = new List<float[]>();
        int area = side * side;
        foreach (var chunk in images.Chunk(side > 128 ? 32 : 128))
        {
            using var scope = NewDisposeScope();
            var batch = new float[chunk.Length * area];
            for (int i = 0; i < chunk.Length; i++) chunk[i].CopyTo(batch, i * area);
            var x = tensor(batch, [chunk.Length, 1, side, side]);
            var p = nn.functional.softmax(net.forward(x), 1);
            if (mirrorAveraging) p = (p + nn.functional.softmax(net.forward(x.flip(3)), 1)) / 2;
            var probs = p.data<float>().ToArray();
            for (int i = 0; i < chunk.Length; i++) result.Add(probs.AsSpan(i * net.Classes, net.Classes).ToArray());
        }
        return result.ToArray();
    }
}
