namespace KneeOnnx.Imaging;

/// <summary>The one mapping between 8-bit gray values and the model's pixel space [-1, 1].</summary>
public static class PixelScale
{
    public static float ToModel(byte value) => value / 127.5f - 1f;

    /// <summary>Rounds to nearest and clamps, so model outputs slightly beyond [-1, 1] never wrap around.</summary>
    public static byte ToByte(float value)
    {
        float scaled = (value + 1f) * 127.5f;
        if (!(scaled > 0f)) return 0; // also maps NaN to black rather than to an undefined byte
        if (scaled >= 255f) return 255;
        return (byte)MathF.Round(scaled, MidpointRounding.AwayFromZero);
    }
}
