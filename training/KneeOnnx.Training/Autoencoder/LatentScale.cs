using KneeOnnx.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// The factor that gives the latents unit variance (Rombach et al. 2022, appendix G: 1/σ of the latents over the
/// data, so the diffusion model's noise schedule sees data of the scale it was designed for): 1 / the standard deviation
/// of the posterior means of whole training images, over an evenly spread subset.
/// </summary>
public static class LatentScale
{
    public static float Measure(KneeAutoencoder model, KneeDataset data, int images, Device device)
    {
        if (data.ImageSize != model.Config.ImageSize)
            throw new ArgumentException($"latent scale: the data are at {data.ImageSize}², the autoencoder codes {model.Config.ImageSize}²");
        model.eval();
        using var _ = no_grad();
        int count = Math.Min(images, data.Count), side = data.ImageSize;
        double sum = 0, sumSquares = 0;
        long n = 0;
        foreach (var chunk in Enumerable.Range(0, count).Select(i => (int)((long)i * data.Count / count)).Chunk(16))
        {
            using var scope = NewDisposeScope();
            var batch = new float[chunk.Length * side * side];
            for (int i = 0; i < chunk.Length; i++) data.Images[chunk[i]].CopyTo(batch, i * side * side);
            var mean = model.Encode(tensor(batch, [chunk.Length, 1, side, side]).to(device)).Mean.to_type(ScalarType.Float64);
            sum += mean.sum().item<double>();
            sumSquares += mean.square().sum().item<double>();
            n += mean.numel();
        }
        double variance = sumSquares / n - (sum / n) * (sum / n);
        if (!(variance > 0)) throw new InvalidOperationException("the encoder's latents have no variance over the data; the autoencoder is untrained or broken");
        return (float)(1 / Math.Sqrt(variance));
    }
}
