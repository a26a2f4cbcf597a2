using KneeOnnx.Diffusion;
using KneeOnnx.Randomness;
using KneeOnnx.Schedulers;
using KneeOnnx.Training.Model;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Bench;

/// <summary>
/// The inference library's sampling loop with TorchSharp in place of ONNX Runtime as the noise predictor: the same
/// schedulers, noise streams and array hand-offs, so a timing difference is the network backend's alone.
/// </summary>
public sealed class TorchSharpSampling(UNet model, NoiseSchedule schedule, Device? device = null)
{
    private readonly Device _device = device ?? CPU;

    /// <summary>One U-Net call on [n, C, H, W]; ε̂ written into <paramref name="noise"/>.</summary>
    public void Predict(float[] samples, int n, int timestep, int grade, Span<float> noise)
    {
        var cfg = model.Config;
        if (samples.Length != n * Area) throw new ArgumentException($"expected {n * Area} values for {n} images, got {samples.Length}", nameof(samples));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // One copy into native (and device) memory and one back, as ORT's input and output copies.
        var x = tensor(samples, [n, cfg.Channels, cfg.ImageSize, cfg.ImageSize]).to(_device);
        var eps = model.forward(x, full([n], timestep, ScalarType.Int64, device: _device), full([n], cfg.IsConditional ? grade : 0, ScalarType.Int64, device: _device));
        eps.cpu().data<float>().CopyTo(noise);
    }

    public int Area => model.Config.Channels * model.Config.ImageSize * model.Config.ImageSize;

    /// <summary>n images of one grade, as <c>ImageGenerator.Generate</c> would make them.</summary>
    public float[] Generate(string sampler, int steps, int grade, long seed, int n)
    {
        model.eval();
        var scheduler = SchedulerFactory.Create(sampler, schedule, steps, 0);
        var noise = new BatchNoise(Enumerable.Range(0, n).Select(i => GaussianStream.For(seed, grade, i)).ToArray(), Area);
        var sample = new float[n * Area];
        var eps = new float[n * Area];
        var fresh = new float[n * Area];
        noise.Fill(sample);
        for (int i = 0; i < scheduler.Timesteps.Count; i++)
        {
            Predict(sample, n, scheduler.Timesteps[i], grade, eps);
            scheduler.Step(i, eps, sample, () =>
            {
                noise.Fill(fresh);
                return fresh;
            });
        }
        return sample;
    }
}
