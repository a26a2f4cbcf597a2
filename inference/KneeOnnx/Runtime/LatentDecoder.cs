namespace KneeOnnx.Runtime;

/// <summary>
/// Runs a latent model's decoder graph on the loop's latents, on pinned buffers reused per batch size
/// (<see cref="PinnedGraphRun"/>, as <see cref="NoiseEstimator"/> does for the U-Net), so decoding allocates nothing per
/// batch after the first.
/// </summary>
public sealed class LatentDecoder : IImageDecoder
{
    private readonly KneeDecoder _decoder;
    private readonly PinnedGraphRun _run;

    /// <summary>Decodes with <paramref name="decoder"/>'s session; the session stays its owner's (the <see cref="KneeModel"/>).</summary>
    public LatentDecoder(KneeDecoder decoder)
    {
        _decoder = decoder;
        _run = new PinnedGraphRun(decoder.Session, AutoencoderContract.LatentName, (Channels, LatentSize),
            AutoencoderContract.ImageName, (1, ImageSize));
    }

    /// <summary>The decoder of a latent <paramref name="model"/>.</summary>
    public LatentDecoder(KneeModel model)
        : this(model.Decoder ?? throw new ArgumentException(model.Info.IsLatent
            ? $"{model.Path}: was opened as a guide, without its decoder; open it with {nameof(KneeModel)}.{nameof(KneeModel.Open)} to decode"
            : $"{model.Path}: a pixel model has no decoder; use {nameof(PixelPassThrough)}")) { }

    public int Channels => _decoder.Info.LatentChannels;
    public int LatentSize => _decoder.Info.LatentSize;
    public int ImageSize => _decoder.Info.ImageSize;

    public void Decode(ReadOnlySpan<float> samples, int n, Span<float> pixels)
    {
        int latentLength = _run.InputLength(n), imageLength = _run.OutputLength(n);
        if (samples.Length < latentLength || pixels.Length < imageLength)
            throw new ArgumentException($"{n} latents of {Channels}×{LatentSize}² need {latentLength} values and room for {imageLength} pixels; got {samples.Length} and {pixels.Length}");
        var image = _run.Run(samples, n);
        // The graph ends in a clamp already; clamping again keeps the [-1, 1] promise whatever decoder was exported.
        for (int i = 0; i < image.Length; i++) pixels[i] = Math.Clamp(image[i], -1f, 1f);
    }

    public void Dispose() => _run.Dispose();
}
