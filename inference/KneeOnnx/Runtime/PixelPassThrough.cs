namespace KneeOnnx.Runtime;

/// <summary>
/// The decoder of a pixel model: the samples are the images, clamped to [-1, 1] (the last step's x̂₀ may overshoot
/// when clipping is off). A latent model is refused: passing its latents through would write noise as pixels.
/// It is the pixel model's encoder too: an image is already a sample.
/// </summary>
public sealed class PixelPassThrough : IImageDecoder, IImageEncoder
{
    public PixelPassThrough(ModelInfo info)
    {
        if (info.IsLatent)
            throw new ArgumentException($"a latent model ({info.Channels}×{info.ImageSize}² latents, decoder '{info.DecoderPath}') needs its decoder, not the pixel pass-through: open it with KneeModel.Open or pass an {nameof(IImageDecoder)}");
        Channels = info.Channels;
        LatentSize = info.ImageSize;
        ImageSize = info.ImageSize;
    }

    public int Channels { get; }
    public int LatentSize { get; }
    public int ImageSize { get; }

    public void Decode(ReadOnlySpan<float> samples, int n, Span<float> pixels)
    {
        int len = n * ImageSize * ImageSize;
        if (samples.Length < len || pixels.Length < len)
            throw new ArgumentException($"{n} images of {ImageSize}² need {len} values; got {samples.Length} samples and room for {pixels.Length} pixels");
        for (int i = 0; i < len; i++) pixels[i] = Math.Clamp(samples[i], -1f, 1f);
    }

    public void Encode(ReadOnlySpan<float> pixels, int n, Span<float> samples)
    {
        int len = n * ImageSize * ImageSize;
        if (pixels.Length < len || samples.Length < len)
            throw new ArgumentException($"{n} images of {ImageSize}² need {len} values; got {pixels.Length} pixels and room for {samples.Length} samples");
        pixels[..len].CopyTo(samples);
    }

    public void Dispose() { }
}
