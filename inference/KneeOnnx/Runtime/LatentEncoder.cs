namespace KneeOnnx.Runtime;

/// <summary>
/// Runs a latent model's encoder graph on images, on pinned buffers reused per batch size (<see cref="PinnedGraphRun"/>,
/// shared with <see cref="LatentDecoder"/>), so encoding allocates nothing per batch after the first.
/// </summary>
public sealed class LatentEncoder : IImageEncoder
{
    private readonly KneeEncoder _encoder;
    private readonly bool _ownsEncoder;
    private readonly PinnedGraphRun _run;

    /// <param name="ownsEncoder">dispose <paramref name="encoder"/>'s session with this object.</param>
    public LatentEncoder(KneeEncoder encoder, bool ownsEncoder = false)
    {
        _encoder = encoder;
        _ownsEncoder = ownsEncoder;
        _run = new PinnedGraphRun(encoder.Session, AutoencoderContract.ImageName, (1, ImageSize),
            AutoencoderContract.LatentName, (Channels, LatentSize));
    }

    public int ImageSize => _encoder.Info.ImageSize;
    public int Channels => _encoder.Info.LatentChannels;
    public int LatentSize => _encoder.Info.LatentSize;

    public void Encode(ReadOnlySpan<float> pixels, int n, Span<float> samples)
    {
        int imageLength = _run.InputLength(n), latentLength = _run.OutputLength(n);
        if (pixels.Length < imageLength || samples.Length < latentLength)
            throw new ArgumentException($"{n} images of {ImageSize}² need {imageLength} values and room for {latentLength} latent values; got {pixels.Length} and {samples.Length}");
        _run.Run(pixels, n).CopyTo(samples);
    }

    public void Dispose()
    {
        _run.Dispose();
        if (_ownsEncoder) _encoder.Dispose();
    }
}
