using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Runtime;

/// <summary>
/// Runs a latent model's encoder graph on images, reusing one pinned image and latent buffer per batch size (as
/// <see cref="LatentDecoder"/> does), so encoding allocates nothing per batch after the first.
/// </summary>
public sealed class LatentEncoder : IImageEncoder
{
    private sealed class Buffers : IDisposable
    {
        public required float[] Image;
        public required float[] Latent;
        public required OrtValue[] Inputs;
        public required OrtValue[] Outputs;

        public void Dispose()
        {
            foreach (var v in Inputs) v.Dispose();
            foreach (var v in Outputs) v.Dispose();
        }
    }

    private static readonly string[] InputNames = [AutoencoderContract.ImageName];
    private static readonly string[] OutputNames = [AutoencoderContract.LatentName];
    private readonly KneeEncoder _encoder;
    private readonly bool _ownsEncoder;
    private readonly Dictionary<int, Buffers> _byRows = [];
    private readonly RunOptions _runOptions = new();

    /// <param name="ownsEncoder">dispose <paramref name="encoder"/>'s session with this object.</param>
    public LatentEncoder(KneeEncoder encoder, bool ownsEncoder = false)
    {
        _encoder = encoder;
        _ownsEncoder = ownsEncoder;
    }

    public int ImageSize => _encoder.Info.ImageSize;
    public int Channels => _encoder.Info.LatentChannels;
    public int LatentSize => _encoder.Info.LatentSize;

    public void Encode(ReadOnlySpan<float> pixels, int n, Span<float> samples)
    {
        int imageLength = n * ImageSize * ImageSize, latentLength = n * Channels * LatentSize * LatentSize;
        if (pixels.Length < imageLength || samples.Length < latentLength)
            throw new ArgumentException($"{n} images of {ImageSize}² need {imageLength} values and room for {latentLength} latent values; got {pixels.Length} and {samples.Length}");
        if (n == 0) return;
        var b = BuffersFor(n);
        pixels[..imageLength].CopyTo(b.Image);
        _encoder.Session.Run(_runOptions, InputNames, b.Inputs, OutputNames, b.Outputs);
        b.Latent.AsSpan(0, latentLength).CopyTo(samples);
    }

    private Buffers BuffersFor(int rows)
    {
        if (_byRows.TryGetValue(rows, out var existing)) return existing;
        var image = new float[rows * ImageSize * ImageSize];
        var latent = new float[rows * Channels * LatentSize * LatentSize];
        var buffers = new Buffers
        {
            Image = image, Latent = latent,
            Inputs = [OrtValue.CreateTensorValueFromMemory(image, [rows, 1, ImageSize, ImageSize])],
            Outputs = [OrtValue.CreateTensorValueFromMemory(latent, [rows, Channels, LatentSize, LatentSize])],
        };
        _byRows[rows] = buffers;
        return buffers;
    }

    public void Dispose()
    {
        foreach (var b in _byRows.Values) b.Dispose();
        _byRows.Clear();
        _runOptions.Dispose();
        if (_ownsEncoder) _encoder.Dispose();
    }
}
