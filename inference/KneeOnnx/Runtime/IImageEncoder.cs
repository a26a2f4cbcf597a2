namespace KneeOnnx.Runtime;

/// <summary>
/// The way back through <see cref="IImageDecoder"/>: images in [-1, 1] become samples of the U-Net's space (the
/// identity for pixel models, the autoencoder's encoder times its scale factor for latent ones), so the sampling loop
/// can start from a real image (<see cref="Generation.Regrader"/>).
/// </summary>
public interface IImageEncoder : IDisposable
{
    /// <summary>Side of the one-channel images it reads.</summary>
    int ImageSize { get; }
    /// <summary>Channels of one sample it makes.</summary>
    int Channels { get; }
    /// <summary>Side of one sample it makes (the U-Net's <see cref="ModelInfo.ImageSize"/>).</summary>
    int LatentSize { get; }

    /// <summary>Encodes n images (n·ImageSize² values) into n samples (n·Channels·LatentSize² values).</summary>
    void Encode(ReadOnlySpan<float> pixels, int n, Span<float> samples);
}
