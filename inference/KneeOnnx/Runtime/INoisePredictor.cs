namespace KneeOnnx.Runtime;

/// <summary>
/// The network seam of the sampling loop: ε̂ for a batch of noisy images. ONNX Runtime implements it for inference
/// (<see cref="NoiseEstimator"/>); the training side implements it with TorchSharp, so parity tests, the bench and the
/// <c>sample</c> verb all run the one loop in <see cref="Generation.ImageGenerator"/>.
/// </summary>
public interface INoisePredictor : IDisposable
{
    /// <summary>The model's contract: image size, schedule, grades, null grade.</summary>
    ModelInfo Info { get; }

    /// <summary>
    /// ε̂ for n images (n·C·H·W values) at one timestep, grade and knee side; a guidance scale ≠ 1 applies
    /// classifier-free guidance against the null grade (and null side). <paramref name="side"/> is a
    /// <see cref="KneeSides"/> index for side-conditioned models (<see cref="KneeSides.None"/> there means either side)
    /// and must be <see cref="KneeSides.None"/> for the others.
    /// </summary>
    void Predict(ReadOnlySpan<float> samples, int n, int timestep, int grade, double guidance, Span<float> noise, int side = KneeSides.None);
}
