namespace KneeOnnx.Runtime;

/// <summary>ε = ε_null + w·(ε_grade − ε_null) (Ho &amp; Salimans 2022), shared by every <see cref="INoisePredictor"/>.</summary>
public static class ClassifierFreeGuidance
{
    public static void Combine(ReadOnlySpan<float> conditional, ReadOnlySpan<float> unconditional, double scale, Span<float> noise)
    {
        float w = (float)scale;
        for (int i = 0; i < noise.Length; i++)
            noise[i] = unconditional[i] + w * (conditional[i] - unconditional[i]);
    }
}
