using System.Globalization;

namespace KneeOnnx.Generation;

/// <summary>
/// The noise levels at which classifier-free guidance applies: σ in (<see cref="Low"/>, <see cref="High"/>], σ being
/// the noise-to-signal ratio √((1 − ᾱ_t) / ᾱ_t) of a step (0 at the data, ∞ at a zero-terminal-SNR schedule's last
/// step). Written "LOW,HIGH" (HIGH may be "inf") on the command line and in model metadata.
/// </summary>
public readonly record struct GuidanceInterval(double Low, double High)
{
    public bool Contains(double sigma) => sigma > Low && sigma <= High;

    /// <summary>A file-name-safe spelling, e.g. "0.56-10.8".</summary>
    public string Tag => $"{Format(Low)}-{Format(High)}";

    public override string ToString() => $"{Format(Low)},{Format(High)}";

    // Round-trip digits: two intervals that sample differently never share a tag or a manifest entry.
    private static string Format(double v) => double.IsPositiveInfinity(v) ? "inf" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Parses "LOW,HIGH"; <paramref name="what"/> names the option or metadata key in the one-line error.</summary>
    public static GuidanceInterval Parse(string text, string what)
    {
        var parts = text.Split(',');
        if (parts.Length == 2 && TryNumber(parts[0], out double low) && TryNumber(parts[1], out double high) && low >= 0 && high > low)
            return new GuidanceInterval(low, high);
        throw new ArgumentException($"{what} '{text}' is not an interval of noise levels LOW,HIGH with 0 ≤ LOW < HIGH (HIGH may be inf), e.g. 0.5,10");
    }

    private static bool TryNumber(string text, out double value)
    {
        text = text.Trim();
        if (text is "inf" or "Infinity") { value = double.PositiveInfinity; return true; }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }
}
