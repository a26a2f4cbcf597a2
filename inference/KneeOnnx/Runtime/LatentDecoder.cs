using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Runtime;

/// <summary>
/// Runs a latent model's decoder graph on the loop's latents, reusing one pinned latent and image buffer per batch size
/// (as <see cref="NoiseEstimator"/> does for the U-Net), so decoding allocates nothing per batch after the first.
/// </summary>
public sealed class LatentDecoder : IImageDecoder
{
    private sealed class Buffers : IDisposable
    {
        public required float[] Latent;
        public required float[] Image;
        public required OrtValue[] Inputs;
        public required OrtValue[] Outputs;

        public void Dispose()
        {
            foreach (var v in Inputs) v.Dispose();
            foreach (var v in Outputs) v.Dispose();
        }
    }

    private static readonly string[] InputNames = [AutoencoderContract.LatentName];
    private static readonly string[] OutputNames = [AutoencoderContract.ImageName];
    private readonly KneeDecoder _decoder;
    private readonly Dictionary<int, Buffers> _byRows = [];
    private readonly RunOptions _runOptions = new();

    /// <summary>Decodes with <paramref name="decoder"/>'s session; the session stays its owner's (the <see cref="KneeModel"/>).</summary>
    public LatentDecoder(KneeDecoder decoder) => _decoder = decoder;

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
        int latentLength = n * Channels * LatentSize * LatentSize, imageLength = n * ImageSize * ImageSize;
        if (samples.Length < latentLength || pixels.Length < imageLength)
            throw new ArgumentException($"{n} latents of {Channels}×{LatentSize}² need {latentLength} values and room for {imageLength} pixels; got {samples.Length} and {pixels.Length}");
        if (n == 0) return;
        var b = BuffersFor(n);
        samples[..latentLength].CopyTo(b.Latent);
        _decoder.Session.Run(_runOptions, InputNames, b.Inputs, OutputNames, b.Outputs);
        // The graph ends in a clamp already; clamping again keeps the [-1, 1] promise whatever decoder was exported.
        var image = b.Image.AsSpan(0, imageLength);
        for (int i = 0; i < image.Length; i++) pixels[i] = Math.Clamp(image[i], -1f, 1f);
    }

    private Buffers BuffersFor(int rows)
    {
        if (_byRows.TryGetValue(rows, out var existing)) return existing;
        var latent = new float[rows * Channels * LatentSize * LatentSize];
        var image = new float[rows * ImageSize * ImageSize];
        var buffers = new Buffers
        {
            Latent = latent, Image = image,
            Inputs = [OrtValue.CreateTensorValueFromMemory(latent, [rows, Channels, LatentSize, LatentSize])],
            Outputs = [OrtValue.CreateTensorValueFromMemory(image, [rows, 1, ImageSize, ImageSize])],
        };
        _byRows[rows] = buffers;
        return buffers;
    }

    public void Dispose()
    {
        foreach (var b in _byRows.Values) b.Dispose();
        _byRows.Clear();
        _runOptions.Dispose();
    }
}
