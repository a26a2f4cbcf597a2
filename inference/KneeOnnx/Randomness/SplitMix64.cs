namespace KneeOnnx.Randomness;

/// <summary>
/// A tiny, fully specified PRNG (Steele et al. 2014). Its whole state is one ulong, so per-step and per-image
/// streams can be derived from (seed, index) and reproduced anywhere without saving generator state.
/// </summary>
public struct SplitMix64(ulong state)
{
    private ulong _state = state;

    /// <summary>A stream for one (seed, a, b) triple: e.g. (run seed, step, purpose) or (seed, grade, image index).</summary>
    public static SplitMix64 For(long seed, long a, long b = 0)
    {
        var mixer = new SplitMix64((ulong)seed);
        ulong s = mixer.NextUInt64() ^ (ulong)a * 0x9E3779B97F4A7C15UL;
        s = new SplitMix64(s).NextUInt64() ^ (ulong)b * 0xC2B2AE3D27D4EB4FUL;
        return new SplitMix64(new SplitMix64(s).NextUInt64());
    }

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n), unbiased (Lemire's multiply-shift with rejection).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        ulong range = (ulong)n;
        while (true)
        {
            UInt128 m = (UInt128)NextUInt64() * range;
            ulong low = (ulong)m;
            if (low >= (0UL - range) % range)
                return (int)(m >> 64);
        }
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A seed for another generator (e.g. a torch.Generator), non-negative.</summary>
    public long NextSeed() => (long)(NextUInt64() >> 1);
}
