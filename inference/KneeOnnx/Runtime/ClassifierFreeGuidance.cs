namespace KneeOnnx.Runtime;

/// <summary>
/// ε = ε_null + w·(ε_grade − ε_null) (Ho &amp; Salimans 2022), and the batch layout that computes both predictions in one
/// network call: shared by every <see cref="INoisePredictor"/>, so ONNX Runtime and TorchSharp guide identically.
/// </summary>
public static class ClassifierFreeGuidance
{
    /// <summary>A scale of 1 is the unguided model: one row per image, no null-grade call.</summary>
    public static bool IsGuided(double scale) => scale != 1.0;

    /// <summary>
    /// Lays out one call for n images of <paramref name="valuesPerImage"/> values: rows 0..n−1 carry the grade and side
    /// asked for (<paramref name="sideInput"/> as <see cref="SideCondition.Resolve"/> gives it, resolved by the caller
    /// before it allocates anything); when guided, rows n..2n−1 repeat the samples with the null grade and null side.
    /// Returns the rows used.
    /// </summary>
    public static int FillBatch(ModelInfo info, ReadOnlySpan<float> samples, int n, int valuesPerImage, int grade, int sideInput, double scale,
                                Span<float> sampleRows, Span<long> gradeRows, Span<long> sideRows)
    {
        int len = n * valuesPerImage;
        samples[..len].CopyTo(sampleRows);
        gradeRows[..n].Fill(info.IsConditional ? grade : 0);
        sideRows[..n].Fill(sideInput);
        if (!IsGuided(scale)) return n;
        samples[..len].CopyTo(sampleRows[len..]);
        gradeRows.Slice(n, n).Fill(info.NullGrade);
        sideRows.Slice(n, n).Fill(info.NullSide);
        return 2 * n;
    }

    /// <summary>The n images' noise from a call laid out by <see cref="FillBatch"/>.</summary>
    public static void Finish(ReadOnlySpan<float> predicted, int len, double scale, Span<float> noise)
    {
        if (IsGuided(scale)) Combine(predicted[..len], predicted.Slice(len, len), scale, noise[..len]);
        else predicted[..len].CopyTo(noise);
    }

    public static void Combine(ReadOnlySpan<float> conditional, ReadOnlySpan<float> unconditional, double scale, Span<float> noise)
    {
        float w = (float)scale;
        for (int i = 0; i < noise.Length; i++)
            noise[i] = unconditional[i] + w * (conditional[i] - unconditional[i]);
    }
}
