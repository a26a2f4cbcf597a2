using KneeOnnx.Runtime;

namespace KneeOnnx.Generation;

/// <summary>
/// Redraws real images at a grade of the caller's choice (SDEdit, Meng et al. 2022): each image is encoded, noised to
/// the timestep the strength sets and denoised under the target grade by the one sampling loop
/// (<see cref="ImageGenerator.Denoise"/>), then decoded. The same input image starts from the same noise whatever
/// the target grade, so a knee's versions at different grades differ by the grade alone — counterfactuals for a
/// classifier, or one knee shown at every grade.
/// </summary>
public sealed class Regrader : IDisposable
{
    private readonly ImageGenerator _generator;
    private readonly bool _ownsGenerator;
    private readonly IImageEncoder _encoder;
    private readonly bool _ownsEncoder;

    /// <summary>On <paramref name="model"/>: its decoder, and its encoder beside it (a pixel model's images are its samples).</summary>
    /// <param name="guide">an autoguidance model, as for <see cref="ImageGenerator(KneeModel, KneeModel?)"/>.</param>
    public Regrader(KneeModel model, KneeModel? guide = null)
    {
        var knee = model.Info.IsLatent ? KneeEncoder.Open(model) : null;
        EncoderSha256 = knee?.Sha256;
        IImageEncoder encoder = knee is not null ? new LatentEncoder(knee, ownsEncoder: true) : new PixelPassThrough(model.Info);
        try
        {
            _generator = new ImageGenerator(model, guide);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        (_encoder, _ownsEncoder, _ownsGenerator) = (encoder, true, true);
        Check();
    }

    /// <param name="encoder">the way back through <paramref name="generator"/>'s decoder.</param>
    public Regrader(ImageGenerator generator, IImageEncoder encoder, bool ownsGenerator = false, bool ownsEncoder = false)
    {
        (_generator, _encoder, _ownsGenerator, _ownsEncoder) = (generator, encoder, ownsGenerator, ownsEncoder);
        Check();
    }

    private void Check()
    {
        var info = _generator.Info;
        if (_encoder.Channels != info.Channels || _encoder.LatentSize != info.ImageSize || _encoder.ImageSize != _generator.ImageSize)
        {
            Dispose();
            throw new ArgumentException($"the encoder maps {_encoder.ImageSize}² images to {_encoder.Channels}×{_encoder.LatentSize}² samples, but the model makes {info.Channels}×{info.ImageSize}² samples for {_generator.ImageSize}² images");
        }
    }

    public ModelInfo Info => _generator.Info;
    /// <summary>SHA-256 of the encoder file a model's regrader opened (its images depend on it); null for a pixel model or a caller's encoder.</summary>
    public string? EncoderSha256 { get; }
    /// <summary>Side of the images it reads and writes (the decoder's).</summary>
    public int ImageSize => _generator.ImageSize;

    /// <summary>
    /// indexes.Count images (ImageSize² values each, in [-1, 1]) redrawn at <paramref name="grade"/>; image k starts
    /// from the noise of (seed, <paramref name="indexes"/>[k]) (<see cref="NoiseIndex"/> of its name for the CLI).
    /// </summary>
    /// <param name="strength">the share of the sampler's calls run (0, 1]: low keeps the knee and changes little, 1 draws a new one.</param>
    public float[] Regrade(ReadOnlySpan<float> images, int grade, long seed, IReadOnlyList<long> indexes, SamplerSettings settings, double strength,
                           int side = KneeSides.None, IProgress<int>? steps = null)
    {
        int n = indexes.Count;
        if (images.Length != n * _generator.ValuesPerImage)
            throw new ArgumentException($"{n} images of {ImageSize}² need {n * _generator.ValuesPerImage} values, got {images.Length}");
        if (n == 0) return [];
        var start = new float[n * _generator.ValuesPerSample];
        _encoder.Encode(images, n, start);
        float[] samples = _generator.Denoise(grade, seed, indexes, settings, shareNoiseAcrossGrades: true, steps, side, start, strength);
        var pixels = new float[n * _generator.ValuesPerImage];
        _generator.Decoder.Decode(samples, n, pixels);
        return pixels;
    }

    /// <summary>
    /// The noise index of an input known by <paramref name="key"/> (its path relative to the input folder): the first 63
    /// bits of the key's SHA-256, so a knee starts from the same noise whether it is regraded alone or in a folder, and
    /// whatever else the folder holds.
    /// </summary>
    public static long NoiseIndex(string key) =>
        (long)(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))) >> 1);

    public void Dispose()
    {
        if (_ownsGenerator) _generator.Dispose();
        if (_ownsEncoder) _encoder.Dispose();
    }
}
