using KneeOnnx.Randomness;
using KneeOnnx.Training.Data;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Runs;

/// <summary>
/// Assembles step <c>s</c>'s batch from a stream seeded by (seed, s) alone: which images, flips, label dropout,
/// timesteps and the noise generator's seed. A resumed run therefore sees exactly the batches an uninterrupted run would.
/// </summary>
/// <remarks>
/// With sides, a flipped knee is labelled with the other side (a flip mirrors the anatomy), the grade and side are
/// dropped together with the label-dropout probability (the guidance baseline) and otherwise the side alone with the
/// same probability (the "either side" condition). The extra draws come after the grade-only ones, so grade-only runs
/// keep their batches bit for bit.
/// </remarks>
public sealed class BatchBuilder(ITrainingSet data, GradeSampler sampler, TrainConfig config, int nullGrade, bool sides = false)
{
    private const int DataStream = 1;
    private readonly float[] _pixels = new float[config.BatchSize * data.SampleChannels * data.SampleSide * data.SampleSide];
    private readonly long[] _grades = new long[config.BatchSize];
    private readonly long[] _sides = new long[config.BatchSize];
    private readonly long[] _timesteps = new long[config.BatchSize];

    /// <summary>Sides is null for a model without side conditioning.</summary>
    public (Tensor Images, Tensor Grades, Tensor? Sides, Tensor Timesteps, long NoiseSeed) Build(long step)
    {
        var rng = SplitMix64.For(config.Seed, step, DataStream);
        int side = data.SampleSide, area = data.SampleChannels * side * side;
        for (int b = 0; b < config.BatchSize; b++)
        {
            int index = sampler.Next(ref rng);
            bool flip = config.HorizontalFlip && rng.NextDouble() < 0.5;
            data.CopySample(index, flip, _pixels.AsSpan(b * area, area));
            bool dropLabel = nullGrade >= 0 && rng.NextDouble() < config.LabelDropout;
            _grades[b] = dropLabel ? nullGrade : data.Grades[index];
            _timesteps[b] = rng.NextInt(config.TrainTimesteps);
            if (sides)
            {
                bool dropSide = dropLabel || rng.NextDouble() < config.LabelDropout;
                int knee = flip ? KneeSides.Mirror(data.Sides[index]) : data.Sides[index];
                _sides[b] = dropSide ? KneeSides.Null : knee;
            }
        }
        return (tensor(_pixels, [config.BatchSize, data.SampleChannels, side, side]), tensor(_grades), sides ? tensor(_sides) : null, tensor(_timesteps), rng.NextSeed());
    }
}
