namespace KneeOnnx.Randomness;

/// <summary>
/// Standard normal floats from a <see cref="SplitMix64"/> by the Box-Muller transform: fully specified, so an
/// image's noise depends only on its (seed, stream, index) key, never on the batch it is drawn in.
/// </summary>
public struct GaussianStream(SplitMix64 source)
{
    private SplitMix64 _source = source;
    private float _spare;
    private bool _hasSpare;

    public static GaussianStream For(long seed, long stream, long index) => new(SplitMix64.For(seed, stream, index));

    public float Next()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        double u1 = 1.0 - _source.NextDouble(); // (0, 1]: log never sees 0
        double u2 = _source.NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = (float)(r * Math.Sin(2 * Math.PI * u2));
        _hasSpare = true;
        return (float)(r * Math.Cos(2 * Math.PI * u2));
    }

    public void Fill(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++) values[i] = Next();
    }
}

/// <summary>One <see cref="GaussianStream"/> per image of a batch; fills batch-shaped buffers image by image.</summary>
public sealed class BatchNoise(GaussianStream[] streams, int valuesPerImage)
{
    public int Count => streams.Length;

    public void Fill(Span<float> batch)
    {
        for (int i = 0; i < streams.Length; i++)
            streams[i].Fill(batch.Slice(i * valuesPerImage, valuesPerImage));
    }
}
