using System.Globalization;

namespace KneeOnnx.Output;

/// <summary>
/// What a manifest row claims about how its image was made: the model (and a latent model's decoder), the written
/// size, the sampler settings and the seed. Two requests with equal provenance make the same pixels under the same
/// names, so one may resume the other; anything else must not share a manifest.
/// </summary>
/// <param name="ModelName">the --model as the user gave it, for the error line only.</param>
public sealed record ImageProvenance(string ModelName, string ModelSha256, string? DecoderSha256, int ImageSize, string Sampler, int Steps, double Eta,
                                     double Guidance, long Seed, Generation.GuidanceInterval? GuidanceInterval = null, string Spacing = Schedulers.TimestepSpacing.TrailingName,
                                     double AutoGuidance = 1, string? GuideSha256 = null, string? Provider = null)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// How a manifest row written with <paramref name="row"/>'s values (by manifest column) differs from this request,
    /// in words ("written with sampler ddim, this run asks for dpm++2m"); null when it does not.
    /// </summary>
    public string? DifferenceFrom(IReadOnlyDictionary<string, string> row)
    {
        string? Field(string column) => row.TryGetValue(column, out var value) ? value : null;
        if (Field("model_sha256") is { } model && model != ModelSha256)
            return $"written with a model of sha256 {Short(model)}, this run's --model {ModelName} has sha256 {Short(ModelSha256)}";
        // A pixel model's manifest has no decoder column: its absence says "no decoder".
        string? decoder = Field(Manifest.DecoderColumn) is { Length: > 0 } d ? d : null;
        if (decoder != DecoderSha256)
            return (decoder, DecoderSha256) switch
            {
                (null, _) => $"written with a pixel model, this run's --model {ModelName} is a latent model (decoder sha256 {Short(DecoderSha256!)})",
                (_, null) => $"written with a latent model (decoder sha256 {Short(decoder)}), this run's --model {ModelName} is a pixel model",
                _ => $"written with the decoder of sha256 {Short(decoder)}, this run's decoder has sha256 {Short(DecoderSha256)}",
            };
        if (Field("image_size") is { } size && !SameNumber(size, ImageSize))
            return $"written at image size {size}, this run writes {ImageSize.ToString(Inv)}";
        if (Field("sampler") is { } sampler && sampler != Sampler)
            return $"written with sampler {sampler}, this run asks for {Sampler}";
        if (Field("steps") is { } steps && !SameNumber(steps, Steps))
            return $"written with {steps} steps, this run asks for {Steps.ToString(Inv)}";
        // A manifest without the column used trailing spacing.
        string spacing = Field(Manifest.SpacingColumn) is { Length: > 0 } sp ? sp : Schedulers.TimestepSpacing.TrailingName;
        if (spacing != Spacing)
            return $"written with {spacing} timestep spacing, this run asks for {Spacing}";
        // Manifests written before the SDE solvers took η recorded 0 for the full SDE; η = 0 is refused for them (it is the
        // ODE, under its own name), so a 0 beside an SDE sampler can mean nothing else.
        if (Field("eta") is { } eta && !SameNumber(eta, Eta)
            && !(Schedulers.SchedulerFactory.DefaultEta(Sampler) == 1 && Eta == 1 && SameNumber(eta, 0)))
            return $"written with eta {eta}, this run asks for {Eta.ToString(Inv)}";
        if (Field("guidance") is { } guidance && !SameNumber(guidance, Guidance))
            return $"written with guidance {guidance}, this run asks for {Guidance.ToString(Inv)}";
        // A manifest without the column was guided at every step (or not at all).
        string? interval = Field(Manifest.GuidanceIntervalColumn) is { Length: > 0 } gi ? gi : null;
        if (interval != GuidanceInterval?.ToString())
            return $"written with guidance {(interval is null ? "at every step" : $"limited to σ in ({interval}]")}, this run asks for {(GuidanceInterval is { } asked ? $"guidance limited to σ in ({asked}]" : "guidance at every step")}";
        // A manifest without the columns was not autoguided.
        double autoGuidance = Field(Manifest.AutoGuidanceColumn) is { Length: > 0 } ag && double.TryParse(ag, NumberStyles.Float, Inv, out double parsedAg) ? parsedAg : 1;
        string? guide = Field(Manifest.GuideColumn) is { Length: > 0 } g ? g : null;
        if (autoGuidance != AutoGuidance || (AutoGuidance != 1 && guide != GuideSha256))
            return $"written {(autoGuidance == 1 ? "without autoguidance" : $"with autoguidance {autoGuidance.ToString(Inv)} by the guide of sha256 {Short(guide ?? "?")}")}, "
                + $"this run asks for {(AutoGuidance == 1 ? "none" : $"autoguidance {AutoGuidance.ToString(Inv)} by the guide of sha256 {Short(GuideSha256 ?? "?")}")}";
        // CUDA and the CPU round differently: a folder resumed on the other provider would no longer be one run's bytes,
        // and a rewritten manifest would name the new provider for the old images. Null: not checked.
        if (Provider is not null && Field("provider") is { Length: > 0 } provider && provider != Provider)
            return $"written on the {provider} provider, this run uses {Provider} (give --provider {provider})";
        if (Field("seed") is { } seed && !(long.TryParse(seed, NumberStyles.Integer, Inv, out long s) && s == Seed))
            return $"written with seed {seed}, this run asks for {Seed.ToString(Inv)}";
        return null;
    }

    private static bool SameNumber(string written, double value) =>
        double.TryParse(written, NumberStyles.Float, Inv, out double parsed) && parsed == value;

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;
}
