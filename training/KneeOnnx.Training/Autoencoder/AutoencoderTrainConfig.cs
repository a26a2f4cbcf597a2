namespace KneeOnnx.Training.Autoencoder;

/// <summary>The resolved settings of an autoencoder run, saved in its checkpoints and config.json.</summary>
public sealed record AutoencoderTrainConfig
{
    public required string Data { get; init; }
    public string Preset { get; init; } = AutoencoderPresets.F4;
    public int? ImageSize { get; init; }
    public int? LatentChannels { get; init; }
    /// <summary>Side of the random training crops; the network is fully convolutional, so whole images are coded the same way.</summary>
    public int Crop { get; init; } = 64;
    public int Steps { get; init; } = 20_000;
    public int BatchSize { get; init; } = 8;
    public double LearningRate { get; init; } = 2e-4;
    public int WarmupSteps { get; init; } = 200;
    public double PerceptualWeight { get; init; } = 1.0;
    /// <summary>LDM's KL weight: small enough to leave reconstruction alone, enough to keep the latent scale bounded.</summary>
    public double KlWeight { get; init; } = 1e-6;
    /// <summary>The step the patch discriminator starts at (VQGAN and LDM start it once reconstructions are good); beyond Steps = never.</summary>
    public int AdversarialStart { get; init; } = 5_000;
    /// <summary>Multiplies the adaptive weight of the adversarial term (Esser et al. 2021 use 0.8, LDM 0.5).</summary>
    public double AdversarialWeight { get; init; } = 0.5;
    public double GradientClip { get; init; } = 1.0;
    /// <summary>
    /// Decay of an exponential moving average of the trained weights, which the export then writes (0 = none, the raw
    /// weights). A decoder trained against a critic oscillates around its optimum; the average sits nearer to it, as
    /// Stable Diffusion's ft-EMA decoder and averaged GAN generators (Yazıcı et al. 2019) show.
    /// </summary>
    public double EmaDecay { get; init; }
    public bool HorizontalFlip { get; init; } = true;
    public int CheckpointEvery { get; init; } = 250;
    public long Seed { get; init; } = 1;
    public string? Precision { get; init; }
    public bool SkipUnreadable { get; init; }
    /// <summary>An export-autoencoder folder whose weights start this run (a committed export, when the checkpoint is gone); it fixes the architecture.</summary>
    public string? InitFrom { get; init; }
    /// <summary>
    /// Train the decoder alone, the encoder kept as <see cref="InitFrom"/> has it (as Stable Diffusion's ft-MSE/ft-EMA
    /// decoders were fine-tuned): the latents stay the same, so latent U-Nets trained on them keep working while the
    /// decoder (and its critic) go on improving.
    /// </summary>
    public bool FreezeEncoder { get; init; }
    /// <summary>With <see cref="FreezeEncoder"/>: a new decoder of these widths per level (one per encoder level), trained from scratch behind the kept encoder; null = the folder's decoder, fine-tuned.</summary>
    public int[]? DecoderWidths { get; init; }
    /// <summary>With <see cref="FreezeEncoder"/>: ResNet blocks per level of the new decoder; null = the folder's.</summary>
    public int? DecoderBlocks { get; init; }
    /// <summary>Whether this run trains a decoder of another shape than <see cref="InitFrom"/>'s, from scratch.</summary>
    public bool NewDecoder => DecoderWidths is not null || DecoderBlocks is not null;
    /// <summary>SHA-256 of <see cref="InitFrom"/>'s encoder file when the encoder is frozen: the export writes that file again, byte for byte.</summary>
    public string? FrozenEncoderSha256 { get; init; }

    public Training.Data.UnreadablePolicy SkipUnreadablePolicy() => SkipUnreadable ? Training.Data.UnreadablePolicy.Skip : Training.Data.UnreadablePolicy.Fail;

    public void Validate()
    {
        void Require(bool ok, string option, string rule, object? value)
        {
            if (!ok) throw new ArgumentException($"{option} {rule}, got {value}");
        }
        Require(AutoencoderPresets.Names.Contains(Preset), "--preset", $"must be one of {string.Join(", ", AutoencoderPresets.Names)}", Preset);
        Require(Steps >= 1, "--steps", "must be at least 1", Steps);
        Require(BatchSize is >= 1 and <= 1024, "--batch", "must be in 1..1024", BatchSize);
        Require(LearningRate > 0 && LearningRate < 1, "--lr", "must be in (0, 1)", LearningRate);
        Require(WarmupSteps >= 0, "--warmup", "must be >= 0", WarmupSteps);
        Require(PerceptualWeight >= 0 && double.IsFinite(PerceptualWeight), "--perceptual-weight", "must be >= 0", PerceptualWeight);
        Require(KlWeight >= 0 && KlWeight < 1, "--kl-weight", "must be in [0, 1)", KlWeight);
        Require(AdversarialStart >= 0, "--adversarial-start", "must be >= 0", AdversarialStart);
        Require(AdversarialWeight >= 0 && double.IsFinite(AdversarialWeight), "--adversarial-weight", "must be >= 0", AdversarialWeight);
        Require(EmaDecay >= 0 && EmaDecay < 1, "--ema-decay", "must be in [0, 1)", EmaDecay);
        Require(GradientClip > 0 && double.IsFinite(GradientClip), "--grad-clip", "must be > 0", GradientClip);
        Require(CheckpointEvery >= 1, "--checkpoint-every", "must be at least 1", CheckpointEvery);
        Require(!FreezeEncoder || InitFrom is not null, "--freeze-encoder", "needs --init-from (the exported autoencoder whose encoder is kept)", "no --init-from");
        Require(!NewDecoder || FreezeEncoder, "--decoder-widths/--decoder-blocks", "need --init-from and --freeze-encoder (a new decoder behind a kept encoder)", "no --freeze-encoder");
        Require(DecoderBlocks is null or (>= 1 and <= 8), "--decoder-blocks", "must be in 1..8", DecoderBlocks);
        if (Precision is not null) Training.Precision.TrainingPrecision.Validate(Precision);
        var model = AutoencoderPresets.Get(Preset, ImageSize, LatentChannels);
        Require(Crop >= model.Factor * 4 && Crop <= model.ImageSize && Crop % model.Factor == 0, "--crop",
            $"must be a multiple of the factor {model.Factor} in {model.Factor * 4}..{model.ImageSize}", Crop);
    }
}
