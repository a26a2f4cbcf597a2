namespace KneeOnnx.Schedulers;

/// <summary>
/// One reverse-diffusion sampler, in the shape of diffusers' schedulers: <see cref="Timesteps"/> lists the model calls
/// in order; <see cref="Step"/> turns x at <c>Timesteps[index]</c> into x at the next timestep (x₀ after the last),
/// in place, reading the network's output as its prediction type says. A scheduler instance serves one batch (multistep samplers keep history).
/// </summary>
public interface IDiffusionScheduler
{
    string Name { get; }
    IReadOnlyList<int> Timesteps { get; }
    /// <summary>True if <see cref="Step"/> draws fresh noise (ancestral samplers).</summary>
    bool IsStochastic { get; }
    void Step(int index, ReadOnlySpan<float> modelOutput, Span<float> sample, Func<float[]>? freshNoise);
}
