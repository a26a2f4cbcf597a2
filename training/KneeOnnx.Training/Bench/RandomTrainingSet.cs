using KneeOnnx.Training.Data;

namespace KneeOnnx.Training.Bench;

/// <summary>Seeded random samples with labels, for timing training steps without reading data (the cost is the network's).</summary>
public sealed class RandomTrainingSet : ITrainingSet
{
    private readonly float[][] _samples;

    public RandomTrainingSet(int count, int channels, int side, long seed)
    {
        var rng = new Random((int)seed);
        _samples = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, channels * side * side).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
        SampleChannels = channels;
        SampleSide = side;
        Grades = Enumerable.Range(0, count).Select(i => i % KlGrades.Count).ToArray();
        Sides = Enumerable.Range(0, count).Select(i => i % 2).ToArray();
    }

    public int Count => _samples.Length;
    public int SampleChannels { get; }
    public int SampleSide { get; }
    public IReadOnlyList<int> Grades { get; }
    public IReadOnlyList<int> Sides { get; }
    public void CopySample(int index, bool flipped, Span<float> target) => _samples[index].CopyTo(target);
}
