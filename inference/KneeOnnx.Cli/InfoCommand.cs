using CommandLine;

namespace KneeOnnx.Cli;

[Verb("info", HelpText = "Show a model's metadata and signature, the execution providers this build offers, and the one actually used.")]
public sealed class InfoOptions : ModelOptions;

internal static class InfoCommand
{
    public static int Run(InfoOptions o, TextWriter output)
    {
        output.WriteLine($"providers in this build: {string.Join(", ", KneeOnnx.Runtime.ProviderChoice.CompiledProviders())}");
        using var model = o.OpenModel(output);
        var info = model.Info;
        output.WriteLine($"model: {model.Path}");
        output.WriteLine($"  sha256 {model.Sha256}");
        output.WriteLine($"  {info.ImageSize}×{info.ImageSize}×{info.Channels}, {info.Schedule.Kind} β {info.Schedule.BetaStart}..{info.Schedule.BetaEnd}{(info.Schedule.ZeroTerminalSnr ? " rescaled to zero terminal SNR" : "")}, T = {info.Schedule.TrainTimesteps}, {info.PredictionType} prediction");
        output.WriteLine(info.DefaultSampler is { } sampler
            ? $"  default sampler: {sampler}, {info.DefaultSteps} steps{(info.DefaultSpacing is { } spacing ? $", {spacing} spacing" : "")}{(info.DefaultEta is { } eta ? $", η {eta.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "")} (the model's own, used when --sampler/--steps{(info.DefaultSpacing is null ? "" : "/--spacing")} are left out)"
            : $"  default sampler: none named; verbs use {Generation.SamplerSettings.DefaultSampler}, {Generation.SamplerSettings.DefaultSteps} steps");
        output.WriteLine($"  conditioning {info.Conditioning}; grades: {string.Join(", ", info.GradeNames.Select((n, i) => $"{i} = {n}"))}; guidance {(info.SupportsGuidance ? $"available (null grade {info.NullGrade})" : "not available")}"
            + (info.DefaultGuidance is { } w ? $"; default guidance {w.ToString(System.Globalization.CultureInfo.InvariantCulture)} (the model's own, used when --guidance is left out)" : "")
            + (info.DefaultGuidanceInterval is { } gi ? $", applied at noise levels σ in ({gi}] (--guidance-interval)" : "")
            + (info.DistilledGuidance is { } baked ? $"; guidance {baked.ToString(System.Globalization.CultureInfo.InvariantCulture)} distilled into the weights: one call per step, --guidance must stay 1" : ""));
        if (model.Decoder is { } decoder)
        {
            var d = decoder.Info;
            output.WriteLine($"  latent model: {info.Channels}×{info.ImageSize}×{info.ImageSize} latents → decoder → 1×{info.OutputImageSize}×{info.OutputImageSize} images (factor {info.Factor}), scale factor {d.ScaleFactor.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}; x̂₀ never clipped");
            output.WriteLine($"  decoder: {decoder.Path}");
            output.WriteLine($"    sha256 {decoder.Sha256[..16]}… (matches the U-Net's {KneeOnnx.Runtime.ModelContract.Keys.DecoderSha256}); autoencoder sha256 {Short(d.AutoencoderSha256)}");
        }
        else
        {
            output.WriteLine($"  pixel model: {info.ImageSize}×{info.ImageSize} images, no decoder");
        }
        output.WriteLine(info.IsSideConditioned
            ? $"  side-conditioned: {string.Join(", ", info.SideNames.Select((n, i) => $"{i} = {n}"))}, {info.NullSide} = either (null side); generate --sides L,R | L | R | any"
            : "  not side-conditioned (generates either side)");
        output.WriteLine("  metadata:");
        foreach (var (key, value) in info.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            output.WriteLine($"    {key} = {(value.Length > 160 ? value[..160] + "…" : value)}");
        return 0;
    }

    private static string Short(string s) => s.Length > 16 ? s[..16] + "…" : s;
}
