using System.Diagnostics;
using System.Text.Json;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Backbones;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Precision;
using KneeOnnx.Training.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>Trains the knee autoencoder on random crops of the train split, checkpointing atomically so any stop resumes exactly.</summary>
public static class AutoencoderTrainer
{
    public const string ConfigFileName = "config.json";

    public static TrainResult Run(AutoencoderTrainConfig requested, TrainRunOptions run)
    {
        string runDir = Path.GetFullPath(run.RunDirectory);
        string checkpointPath = Path.Combine(runDir, AutoencoderCheckpoint.FileName);
        var resumed = RunFolder.ResumeOrRefuse(run, runDir, checkpointPath, "an autoencoder checkpoint", AutoencoderCheckpoint.ReadState, state => state.Step);
        var config = resumed is null ? requested : resumed.Train with { Steps = run.StepsOverride ?? resumed.Train.Steps, EmaDecay = ResumedDecay(resumed.Train.EmaDecay, requested.EmaDecay) };
        var init = resumed is null && config.InitFrom is not null ? AutoencoderFiles.Open(config.InitFrom, "--init-from") : null;
        if (init is not null)
            config = config with
            {
                Preset = init.Config.Preset, ImageSize = init.Config.ImageSize, LatentChannels = init.Config.LatentChannels,
                FrozenEncoderSha256 = config.FreezeEncoder ? init.EncoderSha256 : null,
            };
        config.Validate();
        // The folder's network, with the new decoder's shape when one is asked for: checked before anything is written.
        var initConfig = init is null ? null
            : init.Config with { DecoderWidths = config.DecoderWidths ?? init.Config.DecoderWidths, DecoderBlocks = config.DecoderBlocks ?? init.Config.DecoderBlocks };
        initConfig?.Validate();
        var device = RunFolder.Prepare(runDir, run);
        var output = run.Output;
        var (precision, precisionLine) = TrainingPrecision.Resolve(config.Precision, device);
        config = config with { Precision = precision };
        output.WriteLine(precisionLine);

        var modelConfig = resumed?.Model ?? initConfig ?? AutoencoderPresets.Get(config.Preset, config.ImageSize, config.LatentChannels);
        var loadTimer = Stopwatch.StartNew();
        var data = run.Preloaded ?? KneeDataset.Load(config.Data, "train", modelConfig.ImageSize, config.SkipUnreadablePolicy());
        output.WriteLine($"data: {data.Count} images from {data.Directory} at {modelConfig.ImageSize}² in {loadTimer.Elapsed.TotalSeconds:F1}s");
        RunFolder.RefuseOtherImages(data.Directory, data.Sha256, resumed?.DatasetSha256);

        manual_seed(config.Seed);
        using var model = new KneeAutoencoder(modelConfig);
        using var critic = new PatchDiscriminator();
        model.to(device);
        critic.to(device);
        // Adam with β₁ = 0.5, as VQGAN and LDM train both players: momentum that lags a moving adversary destabilises them.
        if (config.FreezeEncoder)
            foreach (var p in model.Encoder.parameters()) p.requires_grad_(false);
        var trained = model.parameters().Where(p => p.requires_grad).ToArray();
        // The average covers what trains: a frozen encoder is copied once and never averaged, so it stays bit for bit.
        using var average = config.EmaDecay > 0 ? new KneeAutoencoder(modelConfig) : null;
        average?.to(device);
        var ema = average is null ? null
            : config.FreezeEncoder ? new ExponentialMovingAverage(model.Decoder, average.Decoder, config.EmaDecay)
            : new ExponentialMovingAverage(model, average, config.EmaDecay);
        using var modelOptimizer = optim.Adam(trained, lr: config.LearningRate, beta1: 0.5, beta2: 0.9);
        using var criticOptimizer = optim.Adam(critic.parameters(), lr: config.LearningRate, beta1: 0.5, beta2: 0.9);
        long step = 0;
        double previousElapsed = 0;
        if (resumed is not null)
        {
            var (_, averageRestored) = AutoencoderCheckpoint.Restore(checkpointPath, model, average, critic, modelOptimizer, criticOptimizer);
            step = resumed.Step;
            previousElapsed = resumed.ElapsedSeconds;
            output.WriteLine($"resumed from {checkpointPath} at step {step}");
            if (average is not null && !averageRestored)
            {
                StartAverage(model, average);
                output.WriteLine($"weight average (decay {config.EmaDecay}) starts from the step-{step} weights");
            }
        }
        else if (init is not null)
        {
            using var loaded = init.LoadWeights();
            using (no_grad())
            {
                var source = loaded.state_dict();
                // A new decoder starts from its own initialisation: only the kept encoder (and the latent statistics) are copied.
                foreach (var (name, target) in model.state_dict())
                    if (!config.NewDecoder || !name.StartsWith(KneeAutoencoder.DecoderPrefix, StringComparison.Ordinal)) target.copy_(source[name]);
            }
            output.WriteLine(config.NewDecoder
                ? $"initialised the encoder from {init.Folder}; a new decoder (widths {string.Join(",", modelConfig.DecoderLevelWidths)}, {modelConfig.DecoderBlocks} blocks per level) starts from scratch; the critic and optimiser start afresh"
                : $"initialised from {init.Folder} (decoder sha256 {init.DecoderSha256[..16]}…); the critic and optimiser start afresh");
        }
        if (resumed is null && average is not null) StartAverage(model, average);
        output.WriteLine($"model: {modelConfig.Preset} at {modelConfig.ImageSize}² → {modelConfig.LatentChannels}×{modelConfig.LatentSize}² latents (f = {modelConfig.Factor}), "
            + $"{model.ParameterCount:N0} parameters + critic {critic.parameters().Sum(p => p.numel()):N0}; {config.Steps} steps of {config.BatchSize} crops of {config.Crop}², "
            + $"adversarial from step {config.AdversarialStart}" + (config.FreezeEncoder ? $"; encoder frozen (sha256 {config.FrozenEncoderSha256?[..16]}…), decoder trained" : "")
            + (average is null ? "" : $"; weight average of decay {config.EmaDecay} exported"));
        WriteRunConfig(runDir, config, modelConfig, data, device.type.ToString(), get_num_threads());

        bool bf16 = precision == TrainingPrecision.Bf16;
        using var modelBf16 = bf16 ? new BFloat16Compute(model, new KneeAutoencoder(modelConfig).to(device)) : null;
        using var criticBf16 = bf16 ? new BFloat16Compute(critic, new PatchDiscriminator().to(device)) : null;
        using var perceptual = new PerceptualLoss(ResNet18Weights.Load(), TrainingPrecision.ScalarTypeOf(precision), device);
        var batches = new CropBatchBuilder(data, config);
        var trainingStep = new AutoencoderStep(model, critic, perceptual, modelOptimizer, criticOptimizer, config, device, modelBf16, criticBf16, trained);
        using var lossLog = new LossLog(runDir, step);
        var progress = new ProgressLine(output, run.Interactive, Math.Max(1, run.LogEvery));

        AutoencoderLosses last = default;
        var loop = new StepLoop
        {
            RunDirectory = runDir, CheckpointPath = checkpointPath, TotalSteps = config.Steps, BatchSize = config.BatchSize,
            CheckpointEvery = config.CheckpointEvery, Options = run, LossLog = lossLog, Progress = progress, PreviousElapsedSeconds = previousElapsed,
            DivergedAdvice = "lower --lr", RateUnit = "crops/s", LossName = "L1 + perceptual",
        };
        return loop.Run(step,
            setLearningRate: s =>
            {
                double lr = LearningRateSchedule.At(s, config.LearningRate, config.WarmupSteps, config.Steps, 0.1);
                foreach (var group in modelOptimizer.ParamGroups) group.LearningRate = lr;
                foreach (var group in criticOptimizer.ParamGroups) group.LearningRate = lr;
                return lr;
            },
            trainStep: (s, checkLoss) =>
            {
                last = trainingStep.Run(batches, s, checkLoss);
                return last.Reconstruction(config.PerceptualWeight);
            },
            afterUpdate: ema is null ? null : ema.Update,
            afterReport: s =>
            {
                if (s % Math.Max(1, run.LogEvery) == 0)
                    progress.Message($"  L1 {last.L1:F4}  perceptual {last.Perceptual:F4}  KL {last.Kl:F1}"
                        + (s > config.AdversarialStart ? $"  generator {last.Generator:F3} × {last.AdaptiveWeight:G3}  critic {last.Critic:F3}" : ""));
            },
            save: s =>
            {
                var state = new AutoencoderState { Step = s, ElapsedSeconds = loop.ElapsedSeconds, DatasetSha256 = data.Sha256, Train = config, Model = modelConfig };
                AutoencoderCheckpoint.Write(checkpointPath, state, model, average, critic, modelOptimizer, criticOptimizer);
                LossCurvePlot.Write(Path.Combine(runDir, LossCurvePlot.FileName), lossLog.Rows, $"{modelConfig.Preset}: L1 + perceptual");
            });
    }

    /// <summary>
    /// A resumed run keeps its average's decay; --ema-decay may start an average in a run that has none (from the
    /// resumed weights), but not change one that exists.
    /// </summary>
    private static double ResumedDecay(double kept, double requested)
    {
        if (kept > 0 && requested > 0 && requested != kept)
            throw new ArgumentException($"--ema-decay {requested}: the run already averages its weights with decay {kept}; resume it without --ema-decay or with {kept}");
        return kept > 0 ? kept : requested;
    }

    private static void StartAverage(KneeAutoencoder model, KneeAutoencoder average)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var live = model.state_dict();
        foreach (var (name, target) in average.state_dict()) target.copy_(live[name]);
        average.eval();
        foreach (var p in average.parameters()) p.requires_grad_(false);
    }

    private static void WriteRunConfig(string runDir, AutoencoderTrainConfig config, AutoencoderConfig model, KneeDataset data, string device, int threads)
    {
        var document = new
        {
            train = config, model,
            dataset = new { directory = data.Directory, images = data.Count, sha256 = data.Sha256 },
            device, threads, torchSharp = typeof(torch).Assembly.GetName().Version?.ToString(),
        };
        AtomicFile.WriteAllText(Path.Combine(runDir, ConfigFileName), JsonSerializer.Serialize(document, Checkpoint.Json));
    }
}
