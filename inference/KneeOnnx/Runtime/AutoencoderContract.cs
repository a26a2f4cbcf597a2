namespace KneeOnnx.Runtime;

/// <summary>
/// The exported knee autoencoder's two graphs (diffusers' layout: <c>vae_encoder/model.onnx</c>, <c>vae_decoder/model.onnx</c>)
/// and their metadata keys. Latents cross the seam already multiplied by the scale factor (unit variance), so the
/// diffusion model and the samplers never see the autoencoder's own latent scale.
/// </summary>
public static class AutoencoderContract
{
    /// <summary>Encoder input and decoder output: float32 [N,1,H,W] in [-1, 1].</summary>
    public const string ImageName = "image";
    /// <summary>Encoder output (the posterior mean × scale) and decoder input: float32 [N,c,H/f,W/f].</summary>
    public const string LatentName = "latent";

    public const string EncoderPart = "vae_encoder";
    public const string DecoderPart = "vae_decoder";
    public const string FileName = "model.onnx";

    public static class Keys
    {
        /// <summary><see cref="EncoderPart"/> or <see cref="DecoderPart"/>.</summary>
        public const string Part = "kneeonnx.part";
        public const string LatentChannels = "kneeonnx.latent_channels";
        public const string LatentSize = "kneeonnx.latent_size";
        /// <summary>Downsampling factor f: image side / latent side.</summary>
        public const string Factor = "kneeonnx.factor";
        /// <summary>The latents are the posterior means times this (1 / their standard deviation over the training set).</summary>
        public const string ScaleFactor = "kneeonnx.scale_factor";
        public const string AutoencoderConfig = "kneeonnx.autoencoder_config";
        /// <summary>SHA-256 of the trained weights both parts were exported from: a pair shares it.</summary>
        public const string AutoencoderSha256 = "kneeonnx.autoencoder_sha256";
        /// <summary>Which of the run's weights a part holds, as for U-Nets: "ema" (the run's moving average, --ema-decay) or "raw".</summary>
        public const string Weights = ModelContract.Keys.Weights;
    }
}
