using KneeOnnx.Imaging;
using KneeOnnx.Output;
using KneeOnnx.Randomness;
using KneeOnnx.Runtime;
using KneeOnnx.Schedulers;

namespace KneeOnnx.Generation;

/// <summary>
/// Generates knee images in memory: the library's main entry point. Image <c>index</c> of a request starts from noise
/// keyed by (seed, grade, index) (or by (seed, index) alone with <c>shareNoiseAcrossGrades</c>), so the same
/// request gives the same pixels whatever the batch size, shard or resume point.
/// </summary>
public sealed class ImageGenerator(KneeModel model) : IDisposable
{
    /// <summary>Noise-stream key used instead of the grade when every grade shares its starting noise.</summary>
    public const long SharedNoiseStream = -1;

    private readonly NoiseEstimator _estimator = new(model);

    public KneeModel Model => model;
    public int ValuesPerImage => model.Info.Channels * model.Info.ImageSize * model.Info.ImageSize;

    /// <summary>Denoises one batch; returns indexes.Count images of <see cref="ValuesPerImage"/> values in [-1, 1].</summary>
    public float[] Generate(int grade, long seed, IReadOnlyList<long> indexes, SamplerSettings settings, bool shareNoiseAcrossGrades = false, IProgress<int>? steps = null)
    {
        var info = model.Info;
        if (grade < 0 || grade >= info.GradeNames.Count)
            throw new ArgumentException($"grade {grade} is not in this model (grades 0..{info.GradeNames.Count - 1})");
        settings.Validate(info);
        int n = indexes.Count, area = ValuesPerImage;
        if (n == 0) return [];
        long stream = shareNoiseAcrossGrades ? SharedNoiseStream : grade;
        var noise = new BatchNoise(indexes.Select(i => GaussianStream.For(seed, stream, i)).ToArray(), area);
        var scheduler = SchedulerFactory.Create(settings.Sampler, info.Schedule, settings.Steps, settings.Eta);

        var sample = new float[n * area];
        var eps = new float[n * area];
        var fresh = new float[n * area];
        noise.Fill(sample);
        float[] FreshNoise()
        {
            noise.Fill(fresh);
            return fresh;
        }
        for (int i = 0; i < scheduler.Timesteps.Count; i++)
        {
            _estimator.Predict(sample, n, scheduler.Timesteps[i], grade, settings.Guidance, eps);
            scheduler.Step(i, eps, sample, FreshNoise);
            steps?.Report(i + 1);
        }
        for (int i = 0; i < sample.Length; i++) sample[i] = Math.Clamp(sample[i], -1f, 1f);
        return sample;
    }

    /// <summary>
    /// Makes <paramref name="images"/> grade by grade, <paramref name="batch"/> at a time, each PNG written atomically
    /// under <paramref name="outDir"/>; <paramref name="afterBatch"/> gets the running count after every batch.
    /// </summary>
    public void WritePlanned(IReadOnlyList<PlannedImage> images, long seed, SamplerSettings settings, string outDir, int batch,
                             int? outputSize = null, Action<int>? afterBatch = null)
    {
        if (batch < 1) throw new ArgumentException($"--batch must be at least 1, got {batch}");
        int done = 0, area = ValuesPerImage, side = model.Info.ImageSize;
        foreach (var group in images.GroupBy(p => p.Grade))
            foreach (var chunk in group.Chunk(batch))
            {
                float[] pixels = Generate(group.Key, seed, chunk.Select(b => b.Index).ToArray(), settings);
                for (int i = 0; i < chunk.Length; i++)
                    GrayPngWriter.Write(Path.Combine(outDir, chunk[i].RelativePath), pixels.AsSpan(i * area, area), side, outputSize);
                done += chunk.Length;
                afterBatch?.Invoke(done);
            }
    }

    public void Dispose() => _estimator.Dispose();
}
