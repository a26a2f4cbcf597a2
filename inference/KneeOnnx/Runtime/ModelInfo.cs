using System.Globalization;
using System.Text.Json;
using KneeOnnx.Diffusion;

namespace KneeOnnx.Runtime;

/// <summary>What an exported model says about itself, read from its metadata and checked before any image is made.</summary>
public sealed record ModelInfo
{
    public const int MaxImageSize = 1024;
    public const int MaxGrades = 64;
    public const int MaxGradeNameLength = 64;
    /// <summary>Latent channels a U-Net may have (an autoencoder's latent is rarely wider than 16; 64 bounds the buffers).</summary>
    public const int MaxChannels = 64;

    public required int ImageSize { get; init; }
    public required int Channels { get; init; }
    public required NoiseSchedule Schedule { get; init; }
    public required string PredictionType { get; init; }
    /// <summary>The sampler and steps measured best for this model (<see cref="ModelContract.Keys.DefaultSampler"/>); null when it names none.</summary>
    public string? DefaultSampler { get; init; }
    public int? DefaultSteps { get; init; }
    /// <summary>The guidance scale measured best for this model (<see cref="ModelContract.Keys.DefaultGuidance"/>); null when it names none.</summary>
    public double? DefaultGuidance { get; init; }
    /// <summary>The noise levels the model's guidance was measured best at (<see cref="ModelContract.Keys.DefaultGuidanceInterval"/>); null = every step.</summary>
    public Generation.GuidanceInterval? DefaultGuidanceInterval { get; init; }
    /// <summary>The guidance scale distilled into the weights (<see cref="ModelContract.Keys.DistilledGuidance"/>): its plain prediction is already guided; null when not distilled.</summary>
    public double? DistilledGuidance { get; init; }
    /// <summary>The timestep spacing measured best for this model (<see cref="ModelContract.Keys.DefaultSpacing"/>); null = trailing.</summary>
    public string? DefaultSpacing { get; init; }
    /// <summary>The η measured best with the default sampler (<see cref="ModelContract.Keys.DefaultEta"/>); null = the sampler's own.</summary>
    public double? DefaultEta { get; init; }
    public required IReadOnlyList<string> GradeNames { get; init; }
    public required string Conditioning { get; init; }
    /// <summary>Index of the learned "no grade" embedding, or -1 (no classifier-free guidance).</summary>
    public required int NullGrade { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
    /// <summary>The side names of a side-conditioned model (["L","R"]); empty for a grade-only model.</summary>
    public IReadOnlyList<string> SideNames { get; init; } = [];
    /// <summary>Index of the learned "either side" embedding, or -1 when the model has no side input.</summary>
    public int NullSide { get; init; } = KneeSides.None;
    /// <summary>Latent models: the decoder graph, relative to the U-Net file as the metadata gives it; null for pixel models.</summary>
    public string? DecoderPath { get; init; }
    /// <summary>Latent models: lowercase hex SHA-256 the decoder file must have; null for pixel models.</summary>
    public string? DecoderSha256 { get; init; }
    /// <summary>The side of the images this model makes: the decoder's for latent models, <see cref="ImageSize"/> for pixel models.</summary>
    public int OutputImageSize { get => _outputImageSize > 0 ? _outputImageSize : ImageSize; init => _outputImageSize = value; }
    private readonly int _outputImageSize;
    /// <summary>Whether samplers may clip x̂₀ to [-1, 1]: always false for latent models, which have no such bound.</summary>
    public bool ClipSample { get; init; } = true;

    public bool IsConditional => Conditioning != "none";
    public bool IsSideConditioned => SideNames.Count > 0;
    public bool SupportsGuidance => IsConditional && NullGrade >= 0;
    /// <summary>True when the U-Net's samples are latents that a decoder turns into images.</summary>
    public bool IsLatent => DecoderPath is not null;
    /// <summary>Image side / latent side (1 for pixel models).</summary>
    public int Factor => OutputImageSize / ImageSize;
    public string Get(string key) => Metadata.TryGetValue(key, out var v) ? v : "";

    /// <summary>Parses and bounds-checks every fact inference relies on; hostile or contradictory values are refused.</summary>
    public static ModelInfo Parse(string path, IReadOnlyDictionary<string, string> meta)
    {
        string Require(string key) =>
            meta.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v
                : throw new InvalidModelException($"{path}: not a KneeOnnx model (metadata '{key}' missing)");
        int Int(string key, int min, int max)
        {
            string raw = Require(key);
            if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
                throw new InvalidModelException($"{path}: metadata '{key}' = '{Shorten(raw)}' is not an integer in {min}..{max}");
            return v;
        }
        double Double(string key)
        {
            string raw = Require(key);
            if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new InvalidModelException($"{path}: metadata '{key}' = '{Shorten(raw)}' is not a number");
            return v;
        }

        string format = Require(ModelContract.Keys.FormatVersion);
        if (format != ModelContract.FormatVersion)
            throw new InvalidModelException($"{path}: model format {Shorten(format)} is not supported (expected {ModelContract.FormatVersion})");
        int size = Int(ModelContract.Keys.ImageSize, 8, MaxImageSize);
        int channels = Int(ModelContract.Keys.Channels, 1, MaxChannels);
        int steps = Int(ModelContract.Keys.NumTrainTimesteps, 1, 100_000);
        NoiseSchedule schedule;
        try
        {
            string zeroSnr = meta.TryGetValue(ModelContract.Keys.ZeroTerminalSnr, out var rawZeroSnr) ? rawZeroSnr : "false";
            if (zeroSnr is not ("true" or "false"))
                throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.ZeroTerminalSnr}' = '{Shorten(zeroSnr)}' is not true or false");
            schedule = NoiseSchedule.Create(Require(ModelContract.Keys.BetaSchedule), steps, Double(ModelContract.Keys.BetaStart), Double(ModelContract.Keys.BetaEnd), zeroSnr == "true");
        }
        catch (ArgumentException e)
        {
            throw new InvalidModelException($"{path}: metadata schedule is invalid ({e.Message})", e);
        }
        string prediction = Require(ModelContract.Keys.PredictionType);
        if (!Diffusion.PredictionType.All.Contains(prediction))
            throw new InvalidModelException($"{path}: prediction type '{Shorten(prediction)}' is not supported (expected {string.Join(" or ", Diffusion.PredictionType.All)})");
        try
        {
            Diffusion.PredictionType.RequireCompatible(prediction, schedule);
        }
        catch (ArgumentException e)
        {
            throw new InvalidModelException($"{path}: {e.Message}", e);
        }

        List<string>? names;
        try
        {
            names = JsonSerializer.Deserialize<List<string>>(Require(ModelContract.Keys.Grades));
        }
        catch (JsonException e)
        {
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.Grades}' is not a JSON list of names", e);
        }
        if (names is null || names.Count < 1 || names.Count > MaxGrades)
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.Grades}' must list 1..{MaxGrades} grade names");
        foreach (var name in names)
            if (string.IsNullOrWhiteSpace(name) || name.Length > MaxGradeNameLength || name.Any(c => char.IsControl(c) || c is '/' or '\\') || name.Contains(".."))
                throw new InvalidModelException($"{path}: grade name '{Shorten(name ?? "")}' is not allowed (control characters, path separators, '..' or over {MaxGradeNameLength} characters)");

        string conditioning = Require(ModelContract.Keys.Conditioning);
        if (conditioning is not ("add" or "concat" or "none"))
            throw new InvalidModelException($"{path}: conditioning '{Shorten(conditioning)}' is not one of add, concat, none");
        int nullGrade = Int(ModelContract.Keys.NullGrade, -1, MaxGrades);
        if (nullGrade >= 0 && nullGrade != names.Count)
            throw new InvalidModelException($"{path}: null grade {nullGrade} contradicts the {names.Count} grade names (expected {names.Count} or -1)");

        var (defaultSampler, defaultSteps) = ParseDefaultSampler(path, meta, schedule.TrainTimesteps);
        double? defaultGuidance = ParseDefaultGuidance(path, meta, conditioning != "none" && nullGrade >= 0);
        var defaultInterval = ParseDefaultGuidanceInterval(path, meta);
        double? distilled = ParseDistilledGuidance(path, meta, defaultGuidance);
        string? defaultSpacing = meta.TryGetValue(ModelContract.Keys.DefaultSpacing, out var spacing)
            ? defaultSampler is null ? throw new InvalidModelException($"{path}: metadata has '{ModelContract.Keys.DefaultSpacing}' without '{ModelContract.Keys.DefaultSampler}'; the spacing belongs to the default sampler")
            : Schedulers.TimestepSpacing.Names.Contains(spacing) ? spacing
                : throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.DefaultSpacing}' = '{Shorten(spacing)}' is not one of {string.Join(", ", Schedulers.TimestepSpacing.Names)}")
            : null;
        double? defaultEta = ParseDefaultEta(path, meta, defaultSampler);
        var (sideNames, nullSide) = ParseSides(path, meta, conditioning, nullGrade);
        var latent = LatentMetadata.Parse(path, meta, size, channels);
        return new ModelInfo
        {
            ImageSize = size, Channels = channels, Schedule = schedule, PredictionType = prediction, GradeNames = names,
            Conditioning = conditioning, NullGrade = nullGrade, Metadata = new Dictionary<string, string>(meta),
            SideNames = sideNames, NullSide = nullSide, DefaultSampler = defaultSampler, DefaultSteps = defaultSteps, DefaultGuidance = defaultGuidance,
            DefaultGuidanceInterval = defaultInterval, DefaultSpacing = defaultSpacing, DefaultEta = defaultEta, DistilledGuidance = distilled,
            DecoderPath = latent.DecoderPath, DecoderSha256 = latent.DecoderSha256, OutputImageSize = latent.OutputImageSize, ClipSample = latent.ClipSample,
        };
    }

    /// <summary>The default sampler's η: only beside a default sampler that takes one, and in its range.</summary>
    private static double? ParseDefaultEta(string path, IReadOnlyDictionary<string, string> meta, string? defaultSampler)
    {
        if (!meta.TryGetValue(ModelContract.Keys.DefaultEta, out var raw)) return null;
        if (defaultSampler is null || !Schedulers.SchedulerFactory.TakesEta.Contains(defaultSampler))
            throw new InvalidModelException($"{path}: metadata has '{ModelContract.Keys.DefaultEta}' without a default sampler that takes η ({string.Join(", ", Schedulers.SchedulerFactory.TakesEta)})");
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double eta) || !Schedulers.SchedulerFactory.EtaInRange(defaultSampler, eta))
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.DefaultEta}' = '{Shorten(raw)}' is not a number in {Schedulers.SchedulerFactory.EtaRange(defaultSampler)} for {defaultSampler}");
        return eta;
    }

    /// <summary>The model's own default sampler: both keys or neither, a known sampler, steps within 1..T.</summary>
    private static (string? Sampler, int? Steps) ParseDefaultSampler(string path, IReadOnlyDictionary<string, string> meta, int timesteps)
    {
        bool hasSampler = meta.TryGetValue(ModelContract.Keys.DefaultSampler, out var sampler);
        bool hasSteps = meta.TryGetValue(ModelContract.Keys.DefaultSteps, out var rawSteps);
        if (!hasSampler && !hasSteps) return (null, null);
        if (hasSampler != hasSteps)
            throw new InvalidModelException($"{path}: metadata has '{(hasSampler ? ModelContract.Keys.DefaultSampler : ModelContract.Keys.DefaultSteps)}' without '{(hasSampler ? ModelContract.Keys.DefaultSteps : ModelContract.Keys.DefaultSampler)}'");
        if (!Schedulers.SchedulerFactory.Names.Contains(sampler!))
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.DefaultSampler}' = '{Shorten(sampler!)}' is not one of {string.Join(", ", Schedulers.SchedulerFactory.Names)}");
        if (!int.TryParse(rawSteps, NumberStyles.None, CultureInfo.InvariantCulture, out int steps) || steps < 1 || steps > timesteps)
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.DefaultSteps}' = '{Shorten(rawSteps!)}' is not a step count in 1..{timesteps}");
        return (sampler, steps);
    }

    /// <summary>The model's own guidance scale: a number in 0..<see cref="Generation.SamplerSettings.MaxGuidance"/>, other than 1 only on a model with a null grade.</summary>
    private static double? ParseDefaultGuidance(string path, IReadOnlyDictionary<string, string> meta, bool supportsGuidance)
    {
        if (!meta.TryGetValue(ModelContract.Keys.DefaultGuidance, out var raw)) return null;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !(w >= 0 && w <= Generation.SamplerSettings.MaxGuidance))
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.DefaultGuidance}' = '{Shorten(raw)}' is not a guidance scale in 0..{Generation.SamplerSettings.MaxGuidance}");
        if (w != 1 && !supportsGuidance)
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.DefaultGuidance}' = '{Shorten(raw)}' on a model without a null grade, which cannot be guided");
        return w;
    }

    /// <summary>A scale in (0, <see cref="Generation.SamplerSettings.MaxGuidance"/>]; a distilled model's own default guidance can only be 1 (none on top).</summary>
    private static double? ParseDistilledGuidance(string path, IReadOnlyDictionary<string, string> meta, double? defaultGuidance)
    {
        if (!meta.TryGetValue(ModelContract.Keys.DistilledGuidance, out var raw)) return null;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !(w > 0 && w <= Generation.SamplerSettings.MaxGuidance))
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.DistilledGuidance}' = '{Shorten(raw)}' is not a guidance scale in (0, {Generation.SamplerSettings.MaxGuidance}]");
        if (defaultGuidance is double d && d != 1)
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.DefaultGuidance}' = {d.ToString("R", CultureInfo.InvariantCulture)} on a model with guidance {raw} distilled into it, which would guide it twice");
        return w;
    }

    private static Generation.GuidanceInterval? ParseDefaultGuidanceInterval(string path, IReadOnlyDictionary<string, string> meta)
    {
        if (!meta.TryGetValue(ModelContract.Keys.DefaultGuidanceInterval, out var raw)) return null;
        try { return Generation.GuidanceInterval.Parse(raw, $"metadata '{ModelContract.Keys.DefaultGuidanceInterval}'"); }
        catch (ArgumentException e) { throw new InvalidModelException($"{path}: {e.Message.Replace(raw, Shorten(raw))}"); }
    }

    /// <summary>Side metadata is all or nothing, names exactly L and R, the null side right after them, on a guided grade model.</summary>
    private static (IReadOnlyList<string> Names, int NullSide) ParseSides(string path, IReadOnlyDictionary<string, string> meta, string conditioning, int nullGrade)
    {
        bool hasNames = meta.TryGetValue(ModelContract.Keys.Sides, out var rawNames);
        bool hasNull = meta.TryGetValue(ModelContract.Keys.NullSide, out var rawNull);
        if (!hasNames && !hasNull) return ([], KneeSides.None);
        if (!hasNames || !hasNull)
            throw new InvalidModelException($"{path}: contradictory side metadata: '{ModelContract.Keys.Sides}' and '{ModelContract.Keys.NullSide}' must be given together");
        List<string>? names;
        try
        {
            names = JsonSerializer.Deserialize<List<string>>(rawNames!);
        }
        catch (JsonException e)
        {
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.Sides}' = '{Shorten(rawNames!)}' is not a JSON list of side names", e);
        }
        if (names is null || !names.SequenceEqual(KneeSides.Names))
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.Sides}' = '{Shorten(rawNames!)}' must be [\"{string.Join("\",\"", KneeSides.Names)}\"]");
        if (!int.TryParse(rawNull, NumberStyles.Integer, CultureInfo.InvariantCulture, out int nullSide) || nullSide != KneeSides.Null)
            throw new InvalidModelException($"{path}: contradictory side metadata: '{ModelContract.Keys.NullSide}' = '{Shorten(rawNull ?? "")}' (expected {KneeSides.Null}, the index after the {KneeSides.Count} sides)");
        if (conditioning == "none" || nullGrade < 0)
            throw new InvalidModelException($"{path}: contradictory side metadata: a side-conditioned model must be grade-conditioned with a null grade (conditioning '{Shorten(conditioning)}', null grade {nullGrade})");
        return (names, nullSide);
    }

    internal static string Shorten(string s)
    {
        string clean = new(s.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return s.Length > 40 ? clean + "…" : clean;
    }
}
