using KneeOnnx.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// The exported encoder's computation (posterior mean × scale, as <see cref="Export.AutoencoderExporter"/> checks it)
/// run on its weights loaded back into TorchSharp, so a training run on a GPU encodes its train split there.
/// </summary>
internal static class TorchLatentEncoder
{
    private const int Batch = 64;

    public static (float[][] Latents, float[][] Mirrored) EncodeAll(KneeDataset images, AutoencoderFiles autoencoder, int values, Device device)
    {
        using var model = autoencoder.LoadWeights();
        model.to(device);
        model.eval();
        int side = images.ImageSize, area = side * side, count = images.Count;
        var latents = new float[count][];
        var mirrored = new float[count][];
        var batch = new float[Batch * area];
        using var _ = no_grad();
        foreach (bool mirror in new[] { false, true })
            for (int start = 0; start < count; start += Batch)
            {
                int n = Math.Min(Batch, count - start);
                for (int i = 0; i < n; i++) images.CopySample(start + i, mirror, batch.AsSpan(i * area, area));
                using var scope = NewDisposeScope();
                var input = tensor(batch, [Batch, 1, side, side]).narrow(0, 0, n).to(device);
                var result = (model.Encode(input).Mean * autoencoder.ScaleFactor).cpu().contiguous().data<float>().ToArray();
                for (int i = 0; i < n; i++) (mirror ? mirrored : latents)[start + i] = result.AsSpan(i * values, values).ToArray();
            }
        return (latents, mirrored);
    }
}
