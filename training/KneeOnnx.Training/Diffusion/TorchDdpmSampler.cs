using KneeOnnx.Diffusion;
using KneeOnnx.Randomness;
using KneeOnnx.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Diffusion;

/// <summary>
/// Ancestral DDPM sampling over every training timestep with the TorchSharp model: the reference that the ONNX Runtime
/// samplers are compared against. Each image's starting noise and per-step noise come from its own generator seeded by
/// (seed, grade, image index), so an image does not depend on the batch it was drawn in.
/// </summary>
public sealed class TorchDdpmSampler(UNet model, NoiseSchedule schedule, Device device)
{
    /// <param name="imageIndexes">which images of the grade's stream to draw (their seeds), one per batch row.</param>
    /// <returns>[N, C, H, W] float32 on the CPU, clamped to [-1, 1].</returns>
    public Tensor Sample(int grade, long seed, IReadOnlyList<long> imageIndexes, IProgress<int>? progress = null)
    {
        var cfg = model.Config;
        int n = imageIndexes.Count;
        long[] imageShape = [1, cfg.Channels, cfg.ImageSize, cfg.ImageSize];
        var generators = imageIndexes.Select(i => new Generator((ulong)SplitMix64.For(seed, grade, i).NextSeed())).ToArray();
        try
        {
            model.eval();
            using var _ = no_grad();
            using var outer = NewDisposeScope();
            var x = cat(generators.Select(g => randn(imageShape, generator: g)).ToArray(), 0).to(device);
            using var gradeTensor = full([n], cfg.IsConditional ? grade : 0, ScalarType.Int64, device: device);
            for (int t = schedule.TrainTimesteps - 1; t >= 0; t--)
            {
                using var scope = NewDisposeScope();
                using var timestep = full([n], t, ScalarType.Int64, device: device);
                var eps = model.forward(x, timestep, gradeTensor);
                var c = DdpmPosterior.For(schedule, t, t - 1);
                var x0 = (x * c.X0FromSample - eps * c.X0FromNoise).clamp(-1, 1);
                var next = x0 * c.MeanFromX0 + x * c.MeanFromSample;
                if (c.StdDev > 0)
                    next = next + cat(generators.Select(g => randn(imageShape, generator: g)).ToArray(), 0).to(device) * c.StdDev;
                x.Dispose();
                x = next.MoveToOuterDisposeScope();
                progress?.Report(schedule.TrainTimesteps - t);
            }
            return x.clamp(-1, 1).cpu().MoveToOuterDisposeScope();
        }
        finally
        {
            foreach (var g in generators) g.Dispose();
        }
    }
}
