namespace KneeOnnx.Runtime;

/// <summary>
/// The decoding seam of the sampling loop, beside <see cref="INoisePredictor"/>: what the loop denoised (pixels, or
/// latents) becomes images in [-1, 1]. <see cref="PixelPassThrough"/> serves pixel models, <see cref="LatentDecoder"/>
/// runs a latent model's decoder graph; the training side may put its own behind it.
/// </summary>
public interface IImageDecoder : IDisposable
{
    /// <summary>Channels of one denoised sample (1 for pixel models, the latent channels c otherwise).</summary>
    int Channels { get; }
    /// <summary>Side of one denoised sample (the U-Net's <see cref="ModelInfo.ImageSize"/>).</summary>
    int LatentSize { get; }
    /// <summary>Side of the one-channel images it writes.</summary>
    int ImageSize { get; }

    /// <summary>Decodes n samples (n·Channels·LatentSize² values) into n images (n·ImageSize² values in [-1, 1]).</summary>
    void Decode(ReadOnlySpan<float> samples, int n, Span<float> pixels);
}
