namespace KneeOnnx.Training.Data;

/// <summary>
/// What the diffusion trainer draws batches from: images (pixel models) or their latents (latent models), with labels.
/// A flipped sample is the sample of the mirrored knee — for pixels a mirrored image, for latents the encoding of the
/// mirrored image, which is not the mirrored encoding.
/// </summary>
public interface ITrainingSet
{
    int Count { get; }
    /// <summary>Channels of one sample (1 for gray pixels, c for latents).</summary>
    int SampleChannels { get; }
    /// <summary>Side of one sample's square grid.</summary>
    int SampleSide { get; }
    IReadOnlyList<int> Grades { get; }
    IReadOnlyList<int> Sides { get; }
    void CopySample(int index, bool flipped, Span<float> target);
}
