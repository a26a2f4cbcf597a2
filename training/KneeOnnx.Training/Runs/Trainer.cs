using System.Diagnostics;
using System.Text.Json;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Runs;

/// <summary>Trains the ε-prediction U-Net on a dataset's train split, checkpointing atomically so any stop can be resumed exactly.</summary>
public static class Trainer
{
    public const string ConfigFileName = "config.json";

    public static TrainResult Run(TrainConfig requested, TrainRunOptions run)
    {
        string runDir = Path.GetFullPath(run.RunDirectory);
        string checkpointPath = Path.Combine(runDir, Checkpoint.FileName);
        var resumed = RunFolder.ResumeOrRefuse(run, runDir, checkpointPath, "a checkpoint", Checkpoint.ReadState, state => state.Step);
        var config = requested;
        if (resumed is not null)
        {
            config = resumed.Train with { Steps = run.StepsOverride ?? resumed.Train.Steps, Precision = run.PrecisionOverride ?? resumed.Train.Precision,
                MicroBatch = run.MicroBatchOverride ?? resumed.Train.MicroBatch };
            if (run.AutoencoderOverride is { } moved)
                config = resumed.Train.Autoencoder is null
                    ? throw new ArgumentException($"--autoencoder {moved}: {checkpointPath} is a pixel run; --resume cannot turn it into a latent one")
                    : config with { Autoencoder = Path.GetFullPath(moved) };
        }
        ImportedModelInfo? init = null;
        Onnx.ModelProto? initProto = null;
        if (resumed is null && config.InitFrom is not null)
        {
            (init, initProto) = OnnxWeightImporter.Read(config.InitFrom);
            if (initProto.MetadataProps.FirstOrDefault(p => p.Key == ModelContract.Keys.DistilledGuidance) is { } baked
                && config.DistillGuidance?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) != baked.Value)
                throw new ArgumentException($"{config.InitFrom}: the model has guidance {baked.Value} distilled into it; continue it with --distill-guidance {baked.Value} --teacher GUIDED.onnx (other training would unlearn it)");
            if (config.LabelDropout > 0 && !init.Model.HasNullGrade)
                throw new ArgumentException($"{config.InitFrom}: the model has no null grade, so it cannot learn classifier-free guidance; pass --label-dropout 0");
            if (config.UpBlocks is int upBlocks && upBlocks > init.Model.UpBlocks)
                throw new ArgumentException($"--up-blocks {upBlocks}: {config.InitFrom} has {init.Model.UpBlocks} blocks per decoder level; a run from it can keep or drop blocks, not add them");
            config = config with
            {
                ImageSize = init.Model.ImageSize, Sides = config.Sides || init.Model.SideConditioned,
                Preset = init.Model.Preset, Conditioning = init.Model.Conditioning, BetaSchedule = init.BetaSchedule,
                TrainTimesteps = init.TrainTimesteps, BetaStart = init.BetaStart, BetaEnd = init.BetaEnd, InitFromSha256 = init.Sha256, InitFromSteps = init.TrainSteps,
                PredictionType = init.PredictionType, ZeroTerminalSnr = init.ZeroTerminalSnr,
            };
        }
        // Absolute paths in the checkpoint: a resume from another directory must find, and be compared with, the same folders.
        if (resumed is null && run.Preloaded is null && config.Data.Length > 0) config = config with { Data = Path.GetFullPath(config.Data) };
        AutoencoderFiles? autoencoder = null;
        if (config.Autoencoder is not null)
        {
            autoencoder = AutoencoderFiles.Open(config.Autoencoder,
                resumed is not null && run.AutoencoderOverride is null ? "the run's autoencoder (moved? give its new folder with --autoencoder)" : "--autoencoder");
            if (resumed?.Train.LatentMismatch(autoencoder) is { } mismatch) throw new ArgumentException(mismatch);
            if (resumed?.Train.DecoderSha256 is { } before && before != autoencoder.DecoderSha256)
                run.Output.WriteLine($"the decoder was fine-tuned since this run started (sha256 {before[..16]}… → {autoencoder.DecoderSha256[..16]}…); same encoder, so the same latents");
            if (config.ImageSize is int asked && asked != autoencoder.LatentSize)
                throw new ArgumentException($"--image-size {asked}: a latent model's grid is its autoencoder's latent side, {autoencoder.LatentSize}");
            config = config with { ImageSize = autoencoder.LatentSize, DecoderSha256 = autoencoder.DecoderSha256, EncoderSha256 = resumed?.Train.EncoderSha256 ?? autoencoder.EncoderSha256 };
        }
        config.Validate();
        var device = RunFolder.Prepare(runDir, run);
        var output = run.Output;
        // A checkpoint from before the option existed was trained in fp32; it resumes so, bit for bit.
        var (precision, precisionLine) = TrainingPrecision.Resolve(config.Precision ?? (resumed is not null ? TrainingPrecision.Fp32 : null), device);
        config = config with { Precision = precision };
        string resumedPrecision = resumed?.Train.Precision ?? TrainingPrecision.Fp32;
        output.WriteLine(resumed is null || run.PrecisionOverride is null ? precisionLine.Replace("(requested)", resumed is null ? "(requested)" : "(the run's)")
            : precision == resumedPrecision ? precisionLine
            : $"precision: {precision} from step {resumed.Step}, {resumedPrecision} before (requested on resume; the saved weights are fp32 either way)");

        var modelConfig = resumed?.Model
            ?? (init is not null ? init.Model with { SideConditioned = config.Sides, UpBlocksPerLevel = config.UpBlocks ?? init.Model.UpBlocksPerLevel } : null)
            ?? Presets.Get(config.Preset, config.Conditioning, nullGrade: config.LabelDropout > 0, sides: config.Sides, imageSize: config.ImageSize,
                           channels: autoencoder?.LatentChannels ?? 1) with { UpBlocksPerLevel = config.UpBlocks };
        var loadTimer = Stopwatch.StartNew();
        int imageSize = autoencoder?.ImageSize ?? modelConfig.ImageSize;
        var data = run.Preloaded ?? KneeDataset.Load(config.Data, "train", imageSize, config.SkipUnreadable ? UnreadablePolicy.Skip : UnreadablePolicy.Fail);
        output.WriteLine($"data: {data.Count} images from {data.Directory} at {imageSize}² in {loadTimer.Elapsed.TotalSeconds:F1}s; per grade {string.Join(" ", data.CountPerGrade())}"
            + (data.SkippedFiles.Count > 0 ? $"; {data.SkippedFiles.Count} unreadable skipped" : "")
            + (data.IgnoredNonPngFiles > 0 ? $"; {data.IgnoredNonPngFiles} non-PNG files ignored" : "")
            + (data.ConvertedImages > 0 ? $"; {data.ConvertedImages} colour/16-bit/odd-sized images converted to 8-bit gray" : ""));
        if (modelConfig.SideConditioned && data.FirstFileWithoutSide() is { } sideless)
            throw new ArgumentException($"{sideless}: the file name states no knee side (expected a name ending in L or R, like 9003175L.png); --sides needs every image's side");
        RunFolder.RefuseOtherImages(data.Directory, data.Sha256, resumed?.DatasetSha256);

        var schedule = config.CreateSchedule();
        var sampler = new GradeSampler(data.Grades, config.Balance);

        manual_seed(config.Seed);
        using var live = new UNet(modelConfig);
        using var emaModel = new UNet(modelConfig);
        live.to(device);
        emaModel.to(device);
        var ema = new ExponentialMovingAverage(live, emaModel, config.EmaDecay);
        var (optimizer, rateFactors) = OptimizerGroups.Create(live, config);
        using var _optimizer = optimizer;
        long step = 0;
        double previousElapsed = 0;
        if (resumed is not null)
        {
            Checkpoint.Restore(checkpointPath, emaModel, live, optimizer);
            step = resumed.Step;
            previousElapsed = resumed.ElapsedSeconds;
            output.WriteLine($"resumed from {checkpointPath} at step {step}");
        }
        else
        {
            if (initProto is not null)
            {
                bool addsSides = modelConfig.SideConditioned && !init!.Model.SideConditioned;
                OnnxWeightImporter.LoadInto(initProto, live, config.InitFrom!, addsSides ? OnnxWeightImporter.SideEmbeddingPrefix : null);
                initProto = null; // the whole model's bytes; not needed for the rest of the run
                output.WriteLine($"initialised from {config.InitFrom} ({init!.Model.Preset}/{init.Model.Conditioning}, trained {init.TrainSteps} steps, sha256 {init.Sha256[..16]}…)"
                    + (addsSides ? "; side embedding added (its projection starts at zero, so step 0 computes what that model did)" : "")
                    + (modelConfig.UpBlocks < init.Model.UpBlocks ? $"; lean decoder: {modelConfig.UpBlocks} of its {init.Model.UpBlocks} blocks per level kept, the rest of its weights left behind" : ""));
            }
            ema.CopyFromLive();
        }
        output.WriteLine($"model: {modelConfig.Preset} preset at {(modelConfig.Channels > 1 ? $"{modelConfig.Channels}×" : "")}{modelConfig.ImageSize}², {modelConfig.Conditioning} conditioning{(modelConfig.SideConditioned ? " + side" : "")}, {live.ParameterCount:N0} parameters; {config.Steps} steps of batch {config.BatchSize}"
            + (config.MicroBatch > 0 && config.MicroBatch < config.BatchSize ? $", in pieces of {config.MicroBatch}" : ""));
        GuidanceTeacher? teacher = null;
        if (config.DistillGuidance is double scale)
        {
            string teacherSha256;
            (teacher, teacherSha256) = LoadTeacher(config, modelConfig, scale, device, precision == TrainingPrecision.Bf16, output);
            config = config with { TeacherSha256 = teacherSha256 };
        }
        using var _teacher = teacher;
        WriteRunConfig(runDir, config, modelConfig, data, device.type.ToString(), get_num_threads());

        using var objective = new NoiseObjective(schedule, config.MinSnrGamma, device, config.PredictionType);
        ITrainingSet samples = autoencoder is null ? data : LatentTrainingSet.Encode(data, autoencoder, run.LatentCache, output, run.Threads,
            torchDevice: device.type == DeviceType.CUDA ? device : null);
        var batches = new BatchBuilder(samples, sampler, config, modelConfig.NullGrade, modelConfig.SideConditioned);
        using var lossLog = new LossLog(runDir, step);
        var progress = new ProgressLine(output, run.Interactive, Math.Max(1, run.LogEvery));
        using var bf16 = precision == TrainingPrecision.Bf16 ? new BFloat16Compute(live, new UNet(modelConfig).to(device)) : null;
        var trainingStep = new TrainingStep(live, objective, optimizer, live.parameters().ToArray(), config.GradientClip, device, bf16, microBatch: config.MicroBatch, teacher: teacher);

        var loop = new StepLoop
        {
            RunDirectory = runDir, CheckpointPath = checkpointPath, TotalSteps = config.Steps, BatchSize = config.BatchSize,
            CheckpointEvery = config.CheckpointEvery, Options = run, LossLog = lossLog, Progress = progress, PreviousElapsedSeconds = previousElapsed,
            DivergedAdvice = "lower --lr or check the data", RateUnit = "img/s", LossName = "mean loss",
            OutOfMemoryRemedy = resumable => MicroBatchAdvice(config, resumable),
        };
        return loop.Run(step,
            setLearningRate: s =>
            {
                double lr = LearningRateSchedule.At(s, config.LearningRate, config.WarmupSteps, config.Steps, config.FinalLearningRateFraction);
                OptimizerGroups.SetRate(optimizer, rateFactors, lr);
                return lr;
            },
            trainStep: (s, checkLoss) => trainingStep.Run(batches, s, checkLoss),
            afterUpdate: ema.Update,
            afterReport: null,
            save: s =>
            {
                var state = new TrainState { Step = s, ElapsedSeconds = loop.ElapsedSeconds, DatasetSha256 = data.Sha256, Train = config, Model = modelConfig };
                Checkpoint.Write(checkpointPath, state, emaModel, live, optimizer);
                LossCurvePlot.Write(Path.Combine(runDir, LossCurvePlot.FileName), lossLog.Rows, $"{modelConfig.Preset} / {modelConfig.Conditioning}: training loss");
            });
    }

    /// <summary>
    /// The guided model a --distill-guidance run learns from: its --init-from file, read again (also on --resume) and held
    /// to the SHA-256 the run started from, so every step of the run has the same teacher.
    /// </summary>
    private static (GuidanceTeacher Teacher, string Sha256) LoadTeacher(TrainConfig config, UNetConfig student, double scale, Device device, bool bf16, TextWriter output)
    {
        string path = config.Teacher ?? config.InitFrom!;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the teacher of this --distill-guidance run is missing", path);
        var (info, proto) = OnnxWeightImporter.Read(path);
        string scaleText = scale.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        // A teacher with this very guidance already in its weights gives the target in one call: a student with another
        // architecture (--up-blocks) learns the shipped function itself.
        string? distilled = proto.MetadataProps.FirstOrDefault(p => p.Key == ModelContract.Keys.DistilledGuidance)?.Value;
        if (distilled is not null && distilled != scaleText)
            throw new ArgumentException($"{path}: this model has guidance {distilled} distilled into it, not {scaleText}; the teacher is the guided model it came from (--teacher)");
        bool baked = distilled is not null;
        if (config.TeacherSha256 is { } started && info.Sha256 != started)
            throw new ArgumentException($"{path}: the teacher has changed since the run started (sha256 {info.Sha256[..16]}…, the run's {started[..16]}…)");
        // The student may be smaller (--up-blocks); what it is given and what it predicts must be the teacher's.
        var t = info.Model;
        bool sameNetwork = JsonSerializer.Serialize(t) == JsonSerializer.Serialize(student);
        if (baked && sameNetwork)
            throw new ArgumentException($"{path}: this model has guidance {scaleText} in its weights already and the student is its own network, so it has nothing to learn from it; continue a distillation with --teacher GUIDED.onnx (the guided model it came from), or make a smaller student with --up-blocks");
        if (t.ImageSize != student.ImageSize || t.Channels != student.Channels || t.Conditioning != student.Conditioning || t.SideConditioned != student.SideConditioned
            || t.HasNullGrade != student.HasNullGrade || t.NumGrades != student.NumGrades)
            throw new ArgumentException($"{path}: --distill-guidance needs a student with the teacher's inputs and outputs ({t.Preset}, {t.Channels}×{t.ImageSize}², {t.Conditioning}{(t.SideConditioned ? " + side" : "")}); it cannot add --sides or change the grid");
        var model = new UNet(info.Model);
        OnnxWeightImporter.LoadInto(proto, model, path);
        output.WriteLine($"distilling guidance {scaleText} from {path} (sha256 {info.Sha256[..16]}…): the target is its {(baked ? "own prediction (the guidance is in its weights)" : "guided prediction")}, {(bf16 ? "computed in bf16" : "in fp32")}");
        // Measured on the lean student of the shipped file (docs/training.md): with min-SNR-5 its images kept the
        // teacher's layout but not its exposure, FID-RN18 265 after 1,250 steps; plain weighting fixed the exposure.
        if (config.MinSnrGamma > 0 && !sameNetwork)
            output.WriteLine($"note: --min-snr-gamma {config.MinSnrGamma.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} weights the noisiest steps by SNR/(SNR+1) → 0, and there the teacher decides each image's exposure and layout; "
                + "a student of another architecture has to learn them too: --min-snr-gamma 0 (plain v- or ε-MSE, the default)");
        return (new GuidanceTeacher(model, info.Model, scale, device, bf16, baked), info.Sha256);
    }

    /// <summary>
    /// A smaller --micro-batch keeps the step's batch, and so the learning rate and the run's recipe, where a smaller
    /// --batch would change both; only a run already at pieces of one image has to shrink the batch itself.
    /// </summary>
    internal static string? MicroBatchAdvice(TrainConfig config, bool resumable)
    {
        int piece = config.MicroBatch > 0 && config.MicroBatch < config.BatchSize ? config.MicroBatch : config.BatchSize;
        return piece > 1
            ? $"{(resumable ? "try --resume with" : "run again with")} --micro-batch {piece / 2} (the same batch of {config.BatchSize} in pieces of {piece / 2} images: same recipe, less memory)"
            : null;
    }

    private static void WriteRunConfig(string runDir, TrainConfig config, UNetConfig model, KneeDataset data, string device, int threads)
    {
        var document = new
        {
            train = config,
            model,
            dataset = new { directory = data.Directory, images = data.Count, perGrade = data.CountPerGrade(), sha256 = data.Sha256 },
            device,
            threads,
            torchSharp = typeof(torch).Assembly.GetName().Version?.ToString(),
        };
        AtomicFile.WriteAllText(Path.Combine(runDir, ConfigFileName), JsonSerializer.Serialize(document, Checkpoint.Json));
    }
}
