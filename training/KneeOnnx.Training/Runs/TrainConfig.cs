using KneeOnnx.Diffusion;
using KneeOnnx.Training.Data;

namespace KneeOnnx.Training.Runs;

/// <summary>The resolved training settings, saved beside the run (config.json) and inside every checkpoint.</summary>
public sealed record TrainConfig
{
    public required string Data { get; init; }
    public required string Preset { get; init; }
    public string Conditioning { get; init; } = Model.Conditioning.Add;
    /// <summary>The side images are trained at; null = the preset's.</summary>
    public int? ImageSize { get; init; }
    /// <summary>Condition on the knee side as well as the grade (<see cref="KneeSides"/>).</summary>
    public bool Sides { get; init; }
    /// <summary>The side embedding's learning rate over the schedule's (see <see cref="OptimizerGroups"/>).</summary>
    public double SideLearningRateFactor { get; init; } = 10;
    public int Steps { get; init; } = 10_000;
    public int BatchSize { get; init; } = 16;
    /// <summary>
    /// Images per forward and backward pass, the batch's gradient accumulated over its pieces (0 = the whole batch at
    /// once). How to compute, not what: the gradient is the batch's either way, so --resume keeps it unless told another.
    /// </summary>
    public int MicroBatch { get; init; }
    public double LearningRate { get; init; } = 1e-4;
    public int WarmupSteps { get; init; } = 500;
    /// <summary>Cosine decay ends at this fraction of the peak learning rate.</summary>
    public double FinalLearningRateFraction { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.0;
    public double GradientClip { get; init; } = 1.0;
    public double EmaDecay { get; init; } = 0.999;
    /// <summary>Probability of replacing the grade by the null grade, for classifier-free guidance; 0 disables it.</summary>
    public double LabelDropout { get; init; } = 0.1;
    public string Balance { get; init; } = KneeOnnx.Training.Data.Balance.Sqrt;
    public bool HorizontalFlip { get; init; } = true;
    /// <summary>γ of min-SNR-γ loss weighting; 0 is the plain MSE of the prediction.</summary>
    public double MinSnrGamma { get; init; } = 0;
    /// <summary>What the network learns to output: epsilon or v_prediction (<see cref="PredictionType"/>).</summary>
    public string PredictionType { get; init; } = Diffusion.PredictionType.Epsilon;
    /// <summary>Rescale the β schedule to zero terminal SNR (<see cref="NoiseSchedule.WithZeroTerminalSnr"/>); needs v-prediction.</summary>
    public bool ZeroTerminalSnr { get; init; }
    public string BetaSchedule { get; init; } = NoiseSchedule.LinearKind;
    public int TrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 1e-4;
    public double BetaEnd { get; init; } = 0.02;
    public int CheckpointEvery { get; init; } = 250;
    public long Seed { get; init; } = 1;
    /// <summary>fp32 or bf16 compute (<see cref="Precision.TrainingPrecision"/>); null = chosen from the device when the run starts, then recorded.</summary>
    public string? Precision { get; init; }
    public bool SkipUnreadable { get; init; }
    /// <summary>An exported .onnx whose weights start this run (fine-tuning, or continuing a shipped model); its metadata fix the architecture and schedule.</summary>
    public string? InitFrom { get; init; }
    /// <summary>SHA-256 of <see cref="InitFrom"/> as read, so the run records exactly which weights it started from.</summary>
    public string? InitFromSha256 { get; init; }
    /// <summary>
    /// Optimiser steps behind <see cref="InitFrom"/> (its train_steps), so an export states every step behind its
    /// weights, not only this run's; null for runs from scratch and for runs that predate the field.
    /// </summary>
    public long? InitFromSteps { get; init; }
    /// <summary>
    /// The classifier-free guidance scale distilled from the <see cref="InitFrom"/> model, the teacher (its guided
    /// prediction is the target, <see cref="Denoising.GuidanceTeacher"/>); null = the ordinary ε or v target.
    /// </summary>
    public double? DistillGuidance { get; init; }
    /// <summary>
    /// The guided model distilled from, when it is not <see cref="InitFrom"/> (a distillation continued from its own
    /// export); null = <see cref="InitFrom"/>.
    /// </summary>
    public string? Teacher { get; init; }
    /// <summary>SHA-256 of the teacher as the run started: a resumed run must learn from the same one.</summary>
    public string? TeacherSha256 { get; init; }
    /// <summary>
    /// ResNet blocks per decoder level when fewer than the usual (<see cref="UNetConfig.UpBlocksPerLevel"/>): a lean,
    /// cheaper network — with --init-from and --distill-guidance, a student that keeps the file's other weights and
    /// learns the teacher's prediction; null = the preset's or the --init-from model's decoder.
    /// </summary>
    public int? UpBlocks { get; init; }
    /// <summary>An export-autoencoder folder: the U-Net is trained on its latents (a latent preset), and its export names the decoder.</summary>
    public string? Autoencoder { get; init; }
    /// <summary>SHA-256 of that folder's decoder as the run started (runs that predate <see cref="EncoderSha256"/> are held to it).</summary>
    public string? DecoderSha256 { get; init; }
    /// <summary>
    /// SHA-256 of that folder's encoder: the identity of the latents the U-Net learns. Resume and export refuse another
    /// encoder; a decoder fine-tuned since (encoder frozen) is accepted and the export names the new one.
    /// </summary>
    public string? EncoderSha256 { get; init; }

    /// <summary>Null when <paramref name="files"/> holds the latents this run trains on; otherwise why not.</summary>
    public string? LatentMismatch(Autoencoder.AutoencoderFiles files) =>
        EncoderSha256 is { } encoder
            ? encoder == files.EncoderSha256 ? null
                : $"{files.EncoderPath}: the encoder has changed since the run started (sha256 {files.EncoderSha256[..16]}…, the run's {encoder[..16]}…); its latents are not the ones trained on"
            : DecoderSha256 is { } decoder && decoder != files.DecoderSha256
                ? $"{files.DecoderPath}: the decoder has changed since the run started (sha256 {files.DecoderSha256[..16]}…, the run's {decoder[..16]}…) and the run predates encoder tracking"
                : null;

    public NoiseSchedule CreateSchedule() => NoiseSchedule.Create(BetaSchedule, TrainTimesteps, BetaStart, BetaEnd, ZeroTerminalSnr);

    /// <summary>
    /// Fails on the first out-of-range value. The one rule set for both ways of giving a setting: an option is named as
    /// such ("--steps"); a config file passes <paramref name="name"/> to name the file and key instead.
    /// </summary>
    /// <param name="name">(option, key) → how the error names the setting; default: the option.</param>
    public void Validate(Func<string, string, string>? name = null)
    {
        name ??= (option, _) => option;
        void Require(bool ok, string option, string key, string rule, object? value)
        {
            if (!ok) throw new ArgumentException($"{name(option, key)} {rule}, got {Format(value)}");
        }
        Require(Steps >= 1, "--steps", nameof(Steps), "must be at least 1", Steps);
        Require(BatchSize >= 1 && BatchSize <= 4096, "--batch", nameof(BatchSize), "must be in 1..4096", BatchSize);
        Require(MicroBatch >= 0, "--micro-batch", nameof(MicroBatch), "must be at least 1 image (0: the whole batch)", MicroBatch);
        Require(LearningRate > 0 && LearningRate < 1, "--lr", nameof(LearningRate), "must be in (0, 1)", LearningRate);
        Require(WarmupSteps >= 0, "--warmup", nameof(WarmupSteps), "must be >= 0", WarmupSteps);
        Require(EmaDecay >= 0 && EmaDecay < 1, "--ema", nameof(EmaDecay), "must be in [0, 1)", EmaDecay);
        Require(LabelDropout >= 0 && LabelDropout < 1, "--label-dropout", nameof(LabelDropout), "must be in [0, 1)", LabelDropout);
        Require(MinSnrGamma >= 0 && double.IsFinite(MinSnrGamma), "--min-snr-gamma", nameof(MinSnrGamma), "must be >= 0", MinSnrGamma);
        Require(GradientClip > 0 && double.IsFinite(GradientClip), "--grad-clip", nameof(GradientClip), "must be > 0", GradientClip);
        Require(FinalLearningRateFraction >= 0 && FinalLearningRateFraction <= 1, "--final-lr-fraction", nameof(FinalLearningRateFraction), "must be in [0, 1]", FinalLearningRateFraction);
        Require(WeightDecay >= 0 && WeightDecay < 1, "--weight-decay", nameof(WeightDecay), "must be in [0, 1)", WeightDecay);
        Require(DistillGuidance is null || (DistillGuidance > 0 && double.IsFinite(DistillGuidance.Value)), "--distill-guidance", nameof(DistillGuidance), "must be > 0", DistillGuidance);
        Require(Teacher is null || DistillGuidance is not null, "--teacher", nameof(Teacher), "goes with --distill-guidance", Teacher);
        Require(DistillGuidance is null || InitFrom is not null, "--distill-guidance", nameof(DistillGuidance), "needs --init-from, the guided model to distil (the teacher, and the student's start)", DistillGuidance);
        Require(CheckpointEvery >= 1, "--checkpoint-every", nameof(CheckpointEvery), "must be at least 1", CheckpointEvery);
        void RequireChoice(string value, IEnumerable<string> choices, string option, string key)
        {
            if (!choices.Contains(value)) throw new ArgumentException($"{name(option, key)} {Format(value)} is not one of {string.Join(", ", choices)}");
        }
        RequireChoice(Balance, KneeOnnx.Training.Data.Balance.All, "--balance", nameof(Balance));
        RequireChoice(PredictionType, Diffusion.PredictionType.All, "--prediction", nameof(PredictionType));
        Require(!ZeroTerminalSnr || PredictionType == Diffusion.PredictionType.Velocity, "--prediction", nameof(PredictionType),
            $"must be {Diffusion.PredictionType.Velocity} with {name("--zero-terminal-snr", nameof(ZeroTerminalSnr))} (ε-prediction is undefined where the schedule leaves no signal)", PredictionType);
        RequireChoice(Conditioning, Model.Conditioning.All, "--cond", nameof(Conditioning));
        RequireChoice(Preset, Model.Presets.Names, "--preset", nameof(Preset));
        if (Precision is not null) RequireChoice(Precision, KneeOnnx.Training.Precision.TrainingPrecision.Choices, "--precision", nameof(Precision));
        Require(SideLearningRateFactor > 0 && SideLearningRateFactor <= 1000, "--side-lr-factor", nameof(SideLearningRateFactor), "must be in (0, 1000]", SideLearningRateFactor);
        Require(ImageSize is null or (>= 8 and <= 1024), "--image-size", nameof(ImageSize), "must be in 8..1024", ImageSize);
        Require(!Sides || Conditioning != Model.Conditioning.None, "--cond", nameof(Conditioning), "must be add or concat with --sides (the side is a condition beside the grade)", Conditioning);
        Require(!Sides || LabelDropout > 0, "--label-dropout", nameof(LabelDropout), "must be > 0 with --sides (the null side, 'either' and the guidance baseline, is learned from dropped labels)", LabelDropout);
        Require(Model.Presets.IsLatent(Preset) == (Autoencoder is not null), "--preset", nameof(Preset),
            Autoencoder is null ? "latent presets (latent-xs, latent-s, latent-m) need --autoencoder (the latents they model)" : "must be a latent preset (latent-xs, latent-s, latent-m) with --autoencoder", Preset);
        try
        {
            var network = Model.Presets.Get(Preset, Conditioning, LabelDropout > 0, Sides, ImageSize);
            if (UpBlocks is not null) (network with { UpBlocksPerLevel = UpBlocks }).Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{name("--preset", nameof(Preset))} {Preset} with {name("--image-size", nameof(ImageSize))} {ImageSize}: {e.Message}", e);
        }
        try
        {
            CreateSchedule();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{name("--beta-schedule/--timesteps/--beta-start/--beta-end", "BetaSchedule/TrainTimesteps/BetaStart/BetaEnd")}: {e.Message}", e);
        }
    }

    private static string Format(object? value) => value switch
    {
        string s => $"'{s}'",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        null => "null",
        _ => value.ToString() ?? "",
    };
}
