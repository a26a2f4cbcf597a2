namespace KneeOnnx.Runtime;

/// <summary>
/// The exported model's interface: tensor names and the <c>metadata_props</c> keys that make the file self-describing.
/// Both the exporter and every reader use these constants; the README documents them.
/// </summary>
public static class ModelContract
{
    /// <summary>float32 [N,C,H,W], pixel space [-1, 1].</summary>
    public const string SampleInput = "sample";
    /// <summary>int64 [N], 0..T-1.</summary>
    public const string TimestepInput = "timestep";
    /// <summary>int64 [N]; absent when the model is unconditional.</summary>
    public const string GradeInput = "grade";
    /// <summary>int64 [N]: 0 = L, 1 = R, 2 = either (<see cref="KneeSides"/>); only in side-conditioned models.</summary>
    public const string SideInput = "side";
    /// <summary>float32 [N,C,H,W], the predicted noise ε.</summary>
    public const string NoiseOutput = "noise";

    public const string FormatVersion = "1";

    public static class Keys
    {
        public const string FormatVersion = "kneeonnx.format_version";
        public const string ImageSize = "kneeonnx.image_size";
        public const string Channels = "kneeonnx.channels";
        public const string PixelRange = "kneeonnx.pixel_range";
        public const string NumTrainTimesteps = "kneeonnx.num_train_timesteps";
        public const string BetaSchedule = "kneeonnx.beta_schedule";
        public const string BetaStart = "kneeonnx.beta_start";
        public const string BetaEnd = "kneeonnx.beta_end";
        /// <summary>epsilon | v_prediction (<see cref="Diffusion.PredictionType"/>).</summary>
        public const string PredictionType = "kneeonnx.prediction_type";
        /// <summary>"true" when the β schedule was rescaled to zero terminal SNR (Lin et al. 2024); absent = "false".</summary>
        public const string ZeroTerminalSnr = "kneeonnx.zero_terminal_snr";
        /// <summary>The sampler and step count every verb uses when none is asked for (measured on val for this model; export --default-sampler/--default-steps). Both or neither.</summary>
        public const string DefaultSampler = "kneeonnx.default_sampler";
        public const string DefaultSteps = "kneeonnx.default_steps";
        /// <summary>The classifier-free guidance scale every verb uses when no --guidance is given (measured on val; export --default-guidance); absent = 1, no guidance.</summary>
        public const string DefaultGuidance = "kneeonnx.default_guidance";
        /// <summary>The classifier-free guidance scale distilled into the weights (train --distill-guidance): the model samples guided in one call and is not guided again; absent = not distilled.</summary>
        public const string DistilledGuidance = "kneeonnx.distilled_guidance";
        /// <summary>"LOW,HIGH": the noise levels σ at which the default guidance applies (<see cref="Generation.GuidanceInterval"/>; export --default-guidance-interval); absent = every step.</summary>
        public const string DefaultGuidanceInterval = "kneeonnx.default_guidance_interval";
        /// <summary>Where the default sampler's calls fall among the timesteps (<see cref="Schedulers.TimestepSpacing.Names"/>; export --default-spacing); absent = trailing.</summary>
        public const string DefaultSpacing = "kneeonnx.default_spacing";
        /// <summary>The default sampler's η (<see cref="Generation.SamplerSettings.Eta"/>; export --default-eta), for a sampler that takes one; absent = the sampler's own.</summary>
        public const string DefaultEta = "kneeonnx.default_eta";
        /// <summary>Comma-separated SHA-256s of the files set-defaults rewrote into this one, oldest first: the same weights and graph under other defaults, so their cards still tell this one's training.</summary>
        public const string DefaultsSetFrom = "kneeonnx.defaults_set_from_sha256";
        public const string Grades = "kneeonnx.grades";
        public const string Conditioning = "kneeonnx.conditioning";
        public const string NullGrade = "kneeonnx.null_grade";
        /// <summary>JSON list of side names (["L","R"]); present exactly when the model has the <see cref="SideInput"/> input.</summary>
        public const string Sides = "kneeonnx.sides";
        public const string NullSide = "kneeonnx.null_side";
        public const string Preset = "kneeonnx.preset";
        public const string UNetConfig = "kneeonnx.unet_config";
        public const string TrainSteps = "kneeonnx.train_steps";
        public const string TrainSeed = "kneeonnx.train_seed";
        public const string Weights = "kneeonnx.weights";
        public const string DatasetSha256 = "kneeonnx.dataset_sha256";
        public const string DatasetPathSha256 = "kneeonnx.dataset_path_sha256";
        public const string ExportTime = "kneeonnx.export_time";
        public const string ExporterVersion = "kneeonnx.exporter_version";
        public const string SelfCheckMaxAbsDiff = "kneeonnx.selfcheck_max_abs_diff";
        /// <summary>"float32" or "float16": how the file stores its weights (float16 ones are cast to float32 when a session loads; compute is float32 either way).</summary>
        public const string WeightStorage = "kneeonnx.weight_storage";
        /// <summary>With float16 storage: the export's measure of what rounding the weights changed, max |file − unrounded network| on the self-check inputs.</summary>
        public const string Float16RoundingMaxAbsDiff = "kneeonnx.float16_rounding_max_abs_diff";
        /// <summary>
        /// Latent models only: the decoder graph that turns the U-Net's samples into images, as a path relative to the
        /// U-Net file (diffusers' layout: <c>../vae_decoder/model.onnx</c> beside <c>unet/model.onnx</c>).
        /// </summary>
        public const string Decoder = "kneeonnx.decoder";
        /// <summary>Latent models only: SHA-256 of that decoder file; a different file is refused.</summary>
        public const string DecoderSha256 = "kneeonnx.decoder_sha256";
        /// <summary>Latent models only: the side of the images the decoder writes (<see cref="ImageSize"/> is the latent grid's).</summary>
        public const string OutputImageSize = "kneeonnx.output_image_size";
        /// <summary>"true" when samplers may clip the denoised estimate x̂₀ to [-1, 1] (pixel models); "false" for latents, which have no such bound.</summary>
        public const string ClipSample = "kneeonnx.clip_sample";
    }
}
