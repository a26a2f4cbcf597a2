using System.Diagnostics;
using KneeOnnx.Imaging;
using KneeOnnx.Output;
using KneeOnnx.Randomness;
using KneeOnnx.Runtime;
using KneeOnnx.Schedulers;

namespace KneeOnnx.Generation;

/// <summary>
/// The sampling loop — the only one: every verb, the bench and the parity tests denoise through it, with ONNX Runtime
/// or TorchSharp behind <see cref="INoisePredictor"/>. Image <c>index</c> of a request starts from noise keyed by
/// (seed, grade, index) (or by (seed, index) alone with <c>shareNoiseAcrossGrades</c>), so the same request gives the
/// same pixels whatever the batch size, shard or resume point.
/// </summary>
public sealed class ImageGenerator : IDisposable
{
    /// <summary>Noise-stream key used instead of the grade when every grade shares its starting noise.</summary>
    public const long SharedNoiseStream = -1;

    private readonly INoisePredictor _predictor;
    private readonly bool _ownsPredictor;

    /// <summary>Generates with ONNX Runtime on <paramref name="model"/>.</summary>
    public ImageGenerator(KneeModel model) : this(new NoiseEstimator(model), ownsPredictor: true) { }

    public ImageGenerator(INoisePredictor predictor, bool ownsPredictor = false)
    {
        _predictor = predictor;
        _ownsPredictor = ownsPredictor;
    }

    public ModelInfo Info => _predictor.Info;
    public int ValuesPerImage => Info.Channels * Info.ImageSize * Info.ImageSize;

    /// <summary>Denoises one batch; returns indexes.Count images of <see cref="ValuesPerImage"/> values in [-1, 1].</summary>
    /// <param name="steps">gets the number of denoising steps done after each one.</param>
    /// <param name="side">a <see cref="KneeSides"/> index for side-conditioned models (None or Null: either side).</param>
    public float[] Generate(int grade, long seed, IReadOnlyList<long> indexes, SamplerSettings settings, bool shareNoiseAcrossGrades = false, IProgress<int>? steps = null,
                            int side = KneeSides.None)
    {
        var info = Info;
        if (grade < 0 || grade >= info.GradeNames.Count)
            throw new ArgumentException($"grade {grade} is not in this model (grades 0..{info.GradeNames.Count - 1})");
        settings.Validate(info);
        int n = indexes.Count, area = ValuesPerImage;
        if (n == 0) return [];
        SideCondition.Resolve(info, side);
        long stream = NoiseStream(grade, side, shareNoiseAcrossGrades);
        var noise = new BatchNoise(indexes.Select(i => GaussianStream.For(seed, stream, i)).ToArray(), area);
        var scheduler = SchedulerFactory.Create(settings.Sampler, info.Schedule, settings.Steps, settings.Eta, settings.ClipDenoised);

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
            _predictor.Predict(sample, n, scheduler.Timesteps[i], grade, settings.Guidance, eps, side);
            scheduler.Step(i, eps, sample, FreshNoise);
            steps?.Report(i + 1);
        }
        for (int i = 0; i < sample.Length; i++) sample[i] = Math.Clamp(sample[i], -1f, 1f);
        return sample;
    }

    /// <summary>
    /// The noise stream of a (grade, side) request: the grade alone for grade-only models and for either side, so
    /// those requests keep the pixels they always had; L and R get streams of their own.
    /// </summary>
    public static long NoiseStream(int grade, int side, bool shareNoiseAcrossGrades = false) =>
        (shareNoiseAcrossGrades ? SharedNoiseStream : grade) + (side is KneeSides.Left or KneeSides.Right ? (side + 1L) << 32 : 0);

    /// <summary>
    /// Makes <paramref name="images"/> grade by grade, <paramref name="batch"/> at a time, each PNG written atomically
    /// under <paramref name="outDir"/>; <paramref name="afterBatch"/> gets the running count after every batch and
    /// <paramref name="progress"/> hears of every denoising step.
    /// </summary>
    public void WritePlanned(IReadOnlyList<PlannedImage> images, long seed, SamplerSettings settings, string outDir, int batch,
                             int? outputSize = null, Action<int>? afterBatch = null, IProgress<GenerationProgress>? progress = null)
    {
        if (batch < 1) throw new ArgumentException($"--batch must be at least 1, got {batch}");
        int done = 0, area = ValuesPerImage, side = Info.ImageSize;
        var timer = Stopwatch.StartNew();
        foreach (var group in images.GroupBy(p => (p.Grade, p.Side)))
            foreach (var chunk in group.Chunk(batch))
            {
                int before = done;
                var stepReporter = progress is null ? null
                    : new InlineProgress<int>(step => progress.Report(new GenerationProgress(before, images.Count, chunk.Length, step, settings.Steps, timer.Elapsed)));
                float[] pixels = Generate(group.Key.Grade, seed, chunk.Select(b => b.Index).ToArray(), settings, steps: stepReporter, side: group.Key.Side);
                for (int i = 0; i < chunk.Length; i++)
                    GrayPngWriter.Write(Path.Combine(outDir, chunk[i].RelativePath), pixels.AsSpan(i * area, area), side, outputSize);
                done += chunk.Length;
                afterBatch?.Invoke(done);
            }
    }

    public void Dispose()
    {
        if (_ownsPredictor) _predictor.Dispose();
    }
}

/// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread.</summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
