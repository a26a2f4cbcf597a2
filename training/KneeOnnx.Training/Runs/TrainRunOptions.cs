namespace KneeOnnx.Training.Runs;

/// <summary>How to run a training job, as opposed to what to train (<see cref="TrainConfig"/>).</summary>
public sealed record TrainRunOptions
{
    public required string RunDirectory { get; init; }
    public bool Resume { get; init; }
    public string Device { get; init; } = "auto";
    public int Threads { get; init; }
    public TextWriter Output { get; init; } = Console.Out;
    public bool Interactive { get; init; }
    public int LogEvery { get; init; } = 50;
    /// <summary>On --resume, a new total step count (changes the learning-rate schedule from there on).</summary>
    public int? StepsOverride { get; init; }
    /// <summary>
    /// On --resume of a latent run, where its autoencoder folder is now (it was moved or renamed). The encoder inside
    /// must still be the run's (its SHA-256 decides, not the path).
    /// </summary>
    public string? AutoencoderOverride { get; init; }
    /// <summary>
    /// On --resume, the arithmetic to continue in. Which of fp32 and bf16 is faster depends on the CPU, not the run
    /// (bf16 ran 1.6–2.75× faster on an AMD EPYC, 0.6–0.95× as fast on an Intel Xeon), and the weights, optimiser, EMA
    /// and checkpoint are fp32 either way, so a campaign that moves machines may switch.
    /// </summary>
    public string? PrecisionOverride { get; init; }
    /// <summary>
    /// Stop cleanly (with a checkpoint) once this much wall time has passed since <see cref="StartedUtc"/>; for
    /// fixed-length sessions, so the loading before the first step (a latent run encodes the whole train split first:
    /// 273 s on 16 cores) counts too.
    /// </summary>
    public double? MaxMinutes { get; init; }
    /// <summary>When the command started: the CLI builds these options before it loads anything.</summary>
    public DateTime StartedUtc { get; init; } = DateTime.UtcNow;
    /// <summary>Stop cleanly (with a checkpoint) before running this step: a pre-emption at a known point.</summary>
    public long? StopAtStep { get; init; }
    public CancellationToken Cancellation { get; init; }
    /// <summary>On --resume, another <see cref="TrainConfig.MicroBatch"/> (null: the run's own).</summary>
    public int? MicroBatchOverride { get; init; }
    /// <summary>Where latents of a latent run are cached (null: not cached).</summary>
    public string? LatentCache { get; init; } = Autoencoder.LatentTrainingSet.DefaultCacheDirectory();
    /// <summary>Data already in memory instead of loading <see cref="TrainConfig.Data"/>.</summary>
    internal Data.KneeDataset? Preloaded { get; init; }
}

/// <summary>What a training call ended with.</summary>
public sealed record TrainResult(long Step, bool Completed, double FirstLoss, double LastLoss, double ImagesPerSecond, string CheckpointPath);
