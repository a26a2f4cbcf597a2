using System.Globalization;
using KneeOnnx.Generation;
using KneeOnnx.Runtime;
using Onnx;

namespace KneeOnnx.Training.Export;

/// <summary>
/// The sampling settings a U-Net file names as its own (sampler and steps, their spacing, guidance and its interval),
/// which every verb uses when none is asked for: the --default-* options of <c>export</c> and <c>set-defaults</c>. What
/// the model itself must allow (steps within its T, guidance only with a null grade) is checked where the model is known.
/// </summary>
public sealed record SamplingDefaults(string? Sampler, int? Steps, string? Spacing, double? Guidance, GuidanceInterval? GuidanceInterval, double? Eta = null)
{
    public bool IsEmpty => Sampler is null && Guidance is null;

    /// <summary>The --default-* options, checked alone: one-line errors naming the option.</summary>
    public static SamplingDefaults Parse(string? sampler, int? steps, string? spacing, double? guidance, string? guidanceInterval, double? eta = null)
    {
        if ((sampler is null) != (steps is null))
            throw new ArgumentException("--default-sampler and --default-steps go together: give both or neither");
        if (sampler is not null && !Schedulers.SchedulerFactory.Names.Contains(sampler))
            throw new ArgumentException($"--default-sampler '{sampler}' is not one of {string.Join(", ", Schedulers.SchedulerFactory.Names)}");
        if (steps is < 1) throw new ArgumentException($"--default-steps must be at least 1, got {steps}");
        if (spacing is not null && sampler is null)
            throw new ArgumentException("--default-spacing goes with --default-sampler and --default-steps: give them together");
        if (spacing is not null && !Schedulers.TimestepSpacing.Names.Contains(spacing))
            throw new ArgumentException($"--default-spacing '{spacing}' is not one of {string.Join(", ", Schedulers.TimestepSpacing.Names)}");
        if (eta is not null && sampler is null)
            throw new ArgumentException("--default-eta goes with --default-sampler and --default-steps: give them together");
        if (eta is double e) SamplerSettings.CheckEta(sampler!, e, "--default-eta");
        if (guidance is double w && !(w >= 0 && w <= SamplerSettings.MaxGuidance))
            throw new ArgumentException($"--default-guidance must be in 0..{SamplerSettings.MaxGuidance}, got {w}");
        var interval = guidanceInterval is null ? (GuidanceInterval?)null
            : guidance is null or 1 ? throw new ArgumentException("--default-guidance-interval says where --default-guidance applies: give a --default-guidance other than 1 with it")
            : Generation.GuidanceInterval.Parse(guidanceInterval, "--default-guidance-interval");
        return new SamplingDefaults(sampler, steps, spacing, guidance, interval, eta);
    }

    /// <summary>What the model must allow: steps within its <paramref name="trainTimesteps"/>, guidance only when it can be guided.</summary>
    public void CheckFor(string model, int trainTimesteps, bool canGuide)
    {
        if (Steps is int steps && steps > trainTimesteps)
            throw new ArgumentException($"--default-steps must be in 1..{trainTimesteps} (the model's T), got {steps}");
        if (Guidance is double w && w != 1 && !canGuide)
            throw new ArgumentException($"--default-guidance {w.ToString(CultureInfo.InvariantCulture)}: {model} has no null grade (trained without label dropout), so the model cannot be guided");
    }

    /// <summary>
    /// Writes the given settings into <paramref name="proto"/>. A sampler replaces the previous sampler, steps, spacing and η
    /// together (a spacing not given is trailing, an η not given the sampler's own: the keys' absence); a guidance replaces the previous guidance and interval.
    /// </summary>
    public void WriteInto(ModelProto proto)
    {
        var inv = CultureInfo.InvariantCulture;
        if (Sampler is not null)
        {
            OnnxExporter.SetMetadata(proto, ModelContract.Keys.DefaultSampler, Sampler);
            OnnxExporter.SetMetadata(proto, ModelContract.Keys.DefaultSteps, Steps!.Value.ToString(inv));
            Set(proto, ModelContract.Keys.DefaultSpacing, Spacing);
            Set(proto, ModelContract.Keys.DefaultEta, Eta?.ToString("R", inv));
        }
        if (Guidance is double guidance)
        {
            OnnxExporter.SetMetadata(proto, ModelContract.Keys.DefaultGuidance, guidance.ToString("R", inv));
            Set(proto, ModelContract.Keys.DefaultGuidanceInterval, GuidanceInterval?.ToString());
        }
    }

    private static void Set(ModelProto proto, string key, string? value)
    {
        if (value is not null) OnnxExporter.SetMetadata(proto, key, value);
        else if (proto.MetadataProps.FirstOrDefault(p => p.Key == key) is { } stale) proto.MetadataProps.Remove(stale);
    }
}
