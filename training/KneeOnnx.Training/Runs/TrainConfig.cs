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
    public int Steps { get; init; } = 10_000;
    public int BatchSize { get; init; } = 16;
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
    /// <summary>γ of min-SNR-γ loss weighting; 0 is plain ε-MSE.</summary>
    public double MinSnrGamma { get; init; } = 0;
    public string BetaSchedule { get; init; } = NoiseSchedule.LinearKind;
    public int TrainTimesteps { get; init; } = 1000;
    public double BetaStart { get; init; } = 1e-4;
    public double BetaEnd { get; init; } = 0.02;
    public int CheckpointEvery { get; init; } = 250;
    public long Seed { get; init; } = 1;
    public bool SkipUnreadable { get; init; }
    /// <summary>An exported .onnx whose weights start this run (fine-tuning, or continuing a shipped model); its metadata fix the architecture and schedule.</summary>
    public string? InitFrom { get; init; }
    /// <summary>SHA-256 of <see cref="InitFrom"/> as read, so the run records exactly which weights it started from.</summary>
    public string? InitFromSha256 { get; init; }

    public NoiseSchedule CreateSchedule() => NoiseSchedule.Create(BetaSchedule, TrainTimesteps, BetaStart, BetaEnd);

    /// <summary>Fails on the first out-of-range value, naming the option.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(Steps >= 1, $"--steps must be at least 1, got {Steps}");
        Require(BatchSize >= 1 && BatchSize <= 4096, $"--batch must be in 1..4096, got {BatchSize}");
        Require(LearningRate > 0 && LearningRate < 1, $"--lr must be in (0, 1), got {LearningRate}");
        Require(WarmupSteps >= 0, $"--warmup must be >= 0, got {WarmupSteps}");
        Require(EmaDecay >= 0 && EmaDecay < 1, $"--ema must be in [0, 1), got {EmaDecay}");
        Require(LabelDropout >= 0 && LabelDropout < 1, $"--label-dropout must be in [0, 1), got {LabelDropout}");
        Require(MinSnrGamma >= 0, $"--min-snr-gamma must be >= 0, got {MinSnrGamma}");
        Require(GradientClip > 0 && double.IsFinite(GradientClip), $"--grad-clip must be > 0, got {GradientClip}");
        Require(FinalLearningRateFraction >= 0 && FinalLearningRateFraction <= 1, $"--final-lr-fraction must be in [0, 1], got {FinalLearningRateFraction}");
        Require(WeightDecay >= 0 && WeightDecay < 1, $"--weight-decay must be in [0, 1), got {WeightDecay}");
        Require(CheckpointEvery >= 1, $"--checkpoint-every must be at least 1, got {CheckpointEvery}");
        Require(KneeOnnx.Training.Data.Balance.All.Contains(Balance), $"--balance '{Balance}' is not one of {string.Join(", ", KneeOnnx.Training.Data.Balance.All)}");
        Require(Model.Conditioning.All.Contains(Conditioning), $"--cond '{Conditioning}' is not one of {string.Join(", ", Model.Conditioning.All)}");
        Require(Model.Presets.Names.Contains(Preset), $"--preset '{Preset}' is not one of {string.Join(", ", Model.Presets.Names)}");
        Require(ImageSize is null or (>= 8 and <= 1024), $"--image-size must be in 8..1024, got {ImageSize}");
        try
        {
            Model.Presets.Get(Preset, Conditioning, LabelDropout > 0, Sides, ImageSize);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--preset {Preset} --image-size {ImageSize}: {e.Message}", e);
        }
        Require(!Sides || Conditioning != Model.Conditioning.None, "--sides needs grade conditioning; it cannot be combined with --cond none");
        Require(!Sides || LabelDropout > 0, "--sides needs --label-dropout > 0: the null side ('either', and the guidance baseline) is learned from dropped labels");
        try
        {
            CreateSchedule();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--beta-schedule/--timesteps/--beta-start/--beta-end: {e.Message}", e);
        }
    }
}
