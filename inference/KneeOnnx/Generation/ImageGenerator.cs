using System.Diagnostics;
using KneeOnnx.Imaging;
using KneeOnnx.Output;
using KneeOnnx.Randomness;
using KneeOnnx.Runtime;
using KneeOnnx.Schedulers;

namespace KneeOnnx.Generation;

/// <summary>
/// The sampling loop — the only one: every verb, the bench and the parity tests denoise through it, with ONNX Runtime
/// or TorchSharp behind <see cref="INoisePredictor"/>, then decode through <see cref="IImageDecoder"/> (the identity
/// for pixel models, the autoencoder's decoder for latent ones). Image <c>index</c> of a request starts from noise keyed by
/// (seed, grade, index) (or by (seed, index) alone with <c>shareNoiseAcrossGrades</c>), so the same request gives the
/// same pixels whatever the batch size, shard or resume point.
/// </summary>
public sealed class ImageGenerator : IDisposable
{
    /// <summary>Noise-stream key used instead of the grade when every grade shares its starting noise.</summary>
    public const long SharedNoiseStream = -1;

    private readonly INoisePredictor _predictor;
    private readonly bool _ownsPredictor;
    private readonly IImageDecoder _decoder;
    private readonly bool _ownsDecoder;
    private readonly INoisePredictor? _guide;
    private readonly bool _ownsGuide;

    /// <summary>
    /// Generates with ONNX Runtime on <paramref name="model"/>, decoding a latent model's samples with its decoder; both
    /// models stay the caller's (disposed after the generator), and <paramref name="model"/> must hold its decoder
    /// (<see cref="KneeModel.Open(string, RuntimeOptions?)"/>, not <see cref="KneeModel.OpenGuide"/>).
    /// </summary>
    /// <param name="guide">a weaker model of the same kind for autoguidance (<see cref="SamplerSettings.AutoGuidance"/>), checked by <see cref="GuideModelPairing"/>; its decoder is not used.</param>
    public ImageGenerator(KneeModel model, KneeModel? guide = null) : this(OpenParts(model, guide)) { }

    private ImageGenerator((INoisePredictor Predictor, IImageDecoder? Decoder, INoisePredictor? Guide) parts)
        : this(parts.Predictor, ownsPredictor: true, parts.Decoder, ownsDecoder: true, parts.Guide, ownsGuide: true) { }

    /// <param name="decoder">turns the denoised samples into images; null = <see cref="PixelPassThrough"/>, which refuses a latent model.</param>
    /// <param name="ownsDecoder">dispose <paramref name="decoder"/> with the generator (the default pass-through is always its own).</param>
    /// <param name="guide">the autoguidance model (<see cref="SamplerSettings.AutoGuidance"/>); the caller has paired it (<see cref="GuideModelPairing"/>).</param>
    public ImageGenerator(INoisePredictor predictor, bool ownsPredictor = false, IImageDecoder? decoder = null, bool ownsDecoder = false,
                          INoisePredictor? guide = null, bool ownsGuide = false)
    {
        try
        {
            var info = predictor.Info;
            if (decoder is not null && (decoder.Channels != info.Channels || decoder.LatentSize != info.ImageSize || decoder.ImageSize != info.OutputImageSize))
                throw new ArgumentException($"the decoder takes {decoder.Channels}×{decoder.LatentSize}² samples to {decoder.ImageSize}² images, but the model makes {info.Channels}×{info.ImageSize}² samples for {info.OutputImageSize}² images");
            _decoder = decoder ?? new PixelPassThrough(info);
        }
        catch
        {
            // A constructor that throws is never disposed: release what it was given to own here.
            if (ownsPredictor) predictor.Dispose();
            if (ownsDecoder) decoder?.Dispose();
            if (ownsGuide) guide?.Dispose();
            throw;
        }
        _ownsDecoder = decoder is null || ownsDecoder;
        _guide = guide;
        _ownsGuide = ownsGuide;
        _predictor = predictor;
        _ownsPredictor = ownsPredictor;
    }

    /// <summary>
    /// The ONNX Runtime parts of a generator on <paramref name="model"/>, once <paramref name="guide"/> (if any) is known to
    /// pair with it (checked before anything is allocated); if one part fails to open, those already open are released.
    /// </summary>
    private static (INoisePredictor, IImageDecoder?, INoisePredictor?) OpenParts(KneeModel model, KneeModel? guide)
    {
        if (guide is not null) GuideModelPairing.Check(model.Path, model.Info, model.DecoderInfo, guide.Path, guide.Info, guide.DecoderInfo);
        var opened = new List<IDisposable>();
        try
        {
            var predictor = new NoiseEstimator(model);
            opened.Add(predictor);
            IImageDecoder? decoder = model.Decoder is null ? null : new LatentDecoder(model);
            if (decoder is not null) opened.Add(decoder);
            INoisePredictor? guidePredictor = guide is null ? null : new NoiseEstimator(guide);
            return (predictor, decoder, guidePredictor);
        }
        catch
        {
            foreach (var part in opened) part.Dispose();
            throw;
        }
    }

    public ModelInfo Info => _predictor.Info;
    /// <summary>The autoguidance model, or null.</summary>
    public INoisePredictor? Guide => _guide;
    public IImageDecoder Decoder => _decoder;
    /// <summary>Values of one denoised sample: Channels × ImageSize² of the U-Net (latents for a latent model).</summary>
    public int ValuesPerSample => Info.Channels * Info.ImageSize * Info.ImageSize;
    /// <summary>Side of the images it makes (the decoder's).</summary>
    public int ImageSize => _decoder.ImageSize;
    /// <summary>Values of one image it makes: ImageSize² (one channel).</summary>
    public int ValuesPerImage => ImageSize * ImageSize;

    /// <summary>Denoises and decodes one batch; returns indexes.Count images of <see cref="ValuesPerImage"/> values in [-1, 1].</summary>
    /// <param name="steps">gets the number of denoising steps done after each one.</param>
    /// <param name="side">a <see cref="KneeSides"/> index for side-conditioned models (None or Null: either side).</param>
    public float[] Generate(int grade, long seed, IReadOnlyList<long> indexes, SamplerSettings settings, bool shareNoiseAcrossGrades = false, IProgress<int>? steps = null,
                            int side = KneeSides.None)
    {
        float[] samples = Denoise(grade, seed, indexes, settings, shareNoiseAcrossGrades, steps, side);
        int n = indexes.Count;
        if (n == 0) return [];
        var pixels = new float[n * ValuesPerImage];
        _decoder.Decode(samples, n, pixels);
        return pixels;
    }

    /// <summary>
    /// The sampling loop alone: indexes.Count samples of <see cref="ValuesPerSample"/> values as the last step left
    /// them (latents for a latent model; pixels not yet clamped for a pixel model).
    /// </summary>
    /// <param name="start">null: start from pure noise. Otherwise indexes.Count samples (latents for a latent model) to
    /// start from, noised to the first timestep the <paramref name="strength"/> keeps (SDEdit, Meng et al. 2022): the
    /// loop then redraws them under <paramref name="grade"/>, keeping more of them the lower the strength.</param>
    /// <param name="strength">the share of the sampler's calls a <paramref name="start"/> runs through (0, 1]; 1 without one.</param>
    public float[] Denoise(int grade, long seed, IReadOnlyList<long> indexes, SamplerSettings settings, bool shareNoiseAcrossGrades = false, IProgress<int>? steps = null,
                           int side = KneeSides.None, float[]? start = null, double strength = 1)
    {
        var info = Info;
        if (grade < 0 || grade >= info.GradeNames.Count)
            throw new ArgumentException($"grade {grade} is not in this model (grades 0..{info.GradeNames.Count - 1})");
        settings.Validate(info);
        bool autoGuided = settings.AutoGuidance != 1;
        if (autoGuided && _guide is null)
            throw new ArgumentException($"--autoguidance {settings.AutoGuidance.ToString(System.Globalization.CultureInfo.InvariantCulture)} needs a guide model (--guide-model)");
        if (autoGuided && settings.Guidance != 1 && !_guide!.Info.SupportsGuidance)
            throw new ArgumentException("the guide model has no null grade, so it cannot follow --guidance; give --guidance 1 or another guide");
        int n = indexes.Count, area = ValuesPerSample;
        if (start is null && strength != 1) throw new ArgumentException("a strength below 1 needs samples to start from");
        if (start is not null && start.Length != n * area)
            throw new ArgumentException($"{n} start samples of {area} values need {n * area} values, got {start.Length}");
        if (n == 0) return [];
        SideCondition.Resolve(info, side);
        long stream = NoiseStream(grade, side, shareNoiseAcrossGrades);
        var noise = new BatchNoise(indexes.Select(i => GaussianStream.For(seed, stream, i)).ToArray(), area);
        var scheduler = SchedulerFactory.Create(settings.Sampler, info.Schedule, settings.Steps, settings.Eta, settings.ClipFor(info), info.PredictionType, settings.Spacing, strength);

        var sample = new float[n * area];
        var eps = new float[n * area];
        var guideEps = autoGuided ? new float[n * area] : null;
        var fresh = new float[n * area];
        noise.Fill(sample);
        if (start is not null)
        {
            // The forward process in one jump: x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε at the first timestep the sampler runs.
            double alphaBar = info.Schedule.AlphaBarAt(scheduler.Timesteps[0]);
            float keep = (float)Math.Sqrt(alphaBar), spread = (float)Math.Sqrt(1 - alphaBar);
            for (int i = 0; i < sample.Length; i++) sample[i] = keep * start[i] + spread * sample[i];
        }
        float[] FreshNoise()
        {
            noise.Fill(fresh);
            return fresh;
        }
        for (int i = 0; i < scheduler.Timesteps.Count; i++)
        {
            double guidance = settings.GuidanceAt(scheduler.Timesteps[i], info.Schedule);
            _predictor.Predict(sample, n, scheduler.Timesteps[i], grade, guidance, eps, side);
            if (guideEps is not null)
            {
                _guide!.Predict(sample, n, scheduler.Timesteps[i], grade, guidance, guideEps, side);
                // ε_guide + w·(ε − ε_guide): classifier-free guidance's combination with the weaker model in the null grade's place.
                ClassifierFreeGuidance.Combine(eps, guideEps, settings.AutoGuidance, eps);
            }
            scheduler.Step(i, eps, sample, FreshNoise);
            steps?.Report(i + 1);
        }
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
    /// <param name="stopBy">stop before a batch that would end after this time, judged by the last batch's time per
    /// image (the first batch always runs): a long run (DDPM-1000 on a CPU) ends between batches instead of losing one
    /// to a kill, and the same request again makes the rest.</param>
    /// <returns>how many images were written: fewer than <paramref name="images"/> only when <paramref name="stopBy"/> stopped it.</returns>
    public int WritePlanned(IReadOnlyList<PlannedImage> images, long seed, SamplerSettings settings, string outDir, int batch,
                            int? outputSize = null, Action<int>? afterBatch = null, IProgress<GenerationProgress>? progress = null, DateTime? stopBy = null)
    {
        if (batch < 1) throw new ArgumentException($"--batch must be at least 1, got {batch}");
        int done = 0, area = ValuesPerImage, side = ImageSize;
        double? secondsPerImage = null;
        var timer = Stopwatch.StartNew();
        foreach (var group in images.GroupBy(p => (p.Grade, p.Side)))
            foreach (var chunk in group.Chunk(batch))
            {
                if (stopBy is DateTime deadline && secondsPerImage is double perImage && DateTime.UtcNow.AddSeconds(perImage * chunk.Length) > deadline)
                    return done;
                var batchTimer = Stopwatch.StartNew();
                int before = done;
                var stepReporter = progress is null ? null
                    : new InlineProgress<int>(step => progress.Report(new GenerationProgress(before, images.Count, chunk.Length, step, settings.Steps, timer.Elapsed)));
                float[] pixels = Generate(group.Key.Grade, seed, chunk.Select(b => b.Index).ToArray(), settings, steps: stepReporter, side: group.Key.Side);
                for (int i = 0; i < chunk.Length; i++)
                    GrayPngWriter.Write(Path.Combine(outDir, chunk[i].RelativePath), pixels.AsSpan(i * area, area), side, outputSize);
                done += chunk.Length;
                secondsPerImage = batchTimer.Elapsed.TotalSeconds / chunk.Length;
                afterBatch?.Invoke(done);
            }
        return done;
    }

    public void Dispose()
    {
        if (_ownsDecoder) _decoder.Dispose();
        if (_ownsPredictor) _predictor.Dispose();
        if (_ownsGuide) _guide?.Dispose();
    }
}

/// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread.</summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
