using KneeOnnx.Randomness;
using KneeOnnx.Training.Data;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// Step <c>s</c>'s batch of random crops (uniform over images and positions, optional horizontal flip) and the seed of
/// its latent noise, from a stream seeded by (seed, s) alone, so a resumed run sees the batches an uninterrupted one would.
/// </summary>
public sealed class CropBatchBuilder(KneeDataset data, AutoencoderTrainConfig config)
{
    private const int DataStream = 3;
    private readonly float[] _pixels = new float[config.BatchSize * config.Crop * config.Crop];

    public (Tensor Crops, long NoiseSeed) Build(long step)
    {
        var rng = SplitMix64.For(config.Seed, step, DataStream);
        int side = data.ImageSize, crop = config.Crop;
        for (int b = 0; b < config.BatchSize; b++)
        {
            var image = data.Images[rng.NextInt(data.Count)];
            int top = rng.NextInt(side - crop + 1), left = rng.NextInt(side - crop + 1);
            bool flip = config.HorizontalFlip && rng.NextDouble() < 0.5;
            var target = _pixels.AsSpan(b * crop * crop, crop * crop);
            for (int y = 0; y < crop; y++)
                for (int x = 0; x < crop; x++)
                    target[y * crop + x] = image[(top + y) * side + left + (flip ? crop - 1 - x : x)];
        }
        return (tensor(_pixels, [config.BatchSize, 1, crop, crop]), rng.NextSeed());
    }
}
