using System.Globalization;
using System.Text;
using KneeOnnx.Generation;
using KneeOnnx.IO;

namespace KneeOnnx.Output;

/// <summary>
/// manifest.csv (manifest.shard-k-of-N.csv for a shard): one row per image of the request with everything needed
/// to reproduce it. Rewritten atomically after each batch, so it always lists exactly the files that exist. A
/// side-conditioned request adds a <c>side</c> column (L, R or any) after <c>grade_name</c>; a latent model adds
/// <c>decoder_sha256</c> after <c>model_sha256</c>, since the images depend on both files; guidance limited to some
/// noise levels adds <c>guidance_interval</c> after <c>guidance</c>, and a model with distilled guidance adds
/// <c>distilled_guidance</c> there (its <c>guidance</c> is 1, yet its images are guided); a timestep spacing other than trailing adds <c>spacing</c>
/// after <c>steps</c>; autoguidance adds <c>autoguidance</c> and <c>guide_sha256</c> before <c>image_size</c>.
/// </summary>
public static class Manifest
{
    public const string Header = "file,grade,grade_name,index,seed,noise_stream,sampler,steps,eta,guidance,image_size,model_sha256,provider";

    public static string FileName(Shard shard) => shard.IsWhole ? "manifest.csv" : $"manifest.shard-{shard.Index}-of-{shard.Count}.csv";

    public const string SideHeader = "file,grade,grade_name,side,index,seed,noise_stream,sampler,steps,eta,guidance,image_size,model_sha256,provider";

    public const string DecoderColumn = "decoder_sha256";

    /// <summary>"LOW,HIGH" where guidance was limited to those noise levels (<see cref="SamplerSettings.GuidanceInterval"/>); absent = every step.</summary>
    public const string GuidanceIntervalColumn = "guidance_interval";

    /// <summary>The guidance scale distilled into the model's weights (<see cref="Runtime.ModelInfo.DistilledGuidance"/>); absent = not distilled.</summary>
    public const string DistilledGuidanceColumn = "distilled_guidance";

    /// <summary>The timestep spacing where it is not trailing (<see cref="SamplerSettings.Spacing"/>); absent = trailing.</summary>
    public const string SpacingColumn = "spacing";

    /// <summary>The autoguidance weight (<see cref="SamplerSettings.AutoGuidance"/>) and the guide model's SHA-256; absent = no autoguidance.</summary>
    public const string AutoGuidanceColumn = "autoguidance";
    public const string GuideColumn = "guide_sha256";

    /// <summary>The header of a manifest with or without the side, decoder, guidance-interval, distilled-guidance, spacing and autoguidance columns.</summary>
    public static string HeaderFor(bool sides, bool decoder, bool guidanceInterval = false, bool spacing = false, bool autoGuidance = false, bool distilledGuidance = false)
    {
        string header = sides ? SideHeader : Header;
        if (autoGuidance) header = header.Replace(",image_size,", $",{AutoGuidanceColumn},{GuideColumn},image_size,", StringComparison.Ordinal);
        if (spacing) header = header.Replace(",steps,", $",steps,{SpacingColumn},", StringComparison.Ordinal);
        if (guidanceInterval) header = header.Replace(",guidance,", $",guidance,{GuidanceIntervalColumn},", StringComparison.Ordinal);
        // Inserted after the interval's so the header reads guidance, distilled_guidance, guidance_interval like each row.
        if (distilledGuidance) header = header.Replace(",guidance,", $",guidance,{DistilledGuidanceColumn},", StringComparison.Ordinal);
        return decoder ? header.Replace(",model_sha256,", $",model_sha256,{DecoderColumn},", StringComparison.Ordinal) : header;
    }

    /// <param name="decoderSha256">a latent model's decoder SHA-256 (adds its column); null for a pixel model.</param>
    /// <param name="guideSha256">the autoguidance model's SHA-256, required when <see cref="SamplerSettings.AutoGuidance"/> is not 1.</param>
    /// <param name="distilledGuidance">the guidance scale distilled into the model (adds its column); null when not distilled.</param>
    public static void Write(string path, IEnumerable<PlannedImage> images, IReadOnlyList<string> gradeNames, long seed, SamplerSettings s,
                             int outputSize, string modelSha256, string provider, bool sides = false, string? decoderSha256 = null, string? guideSha256 = null,
                             double? distilledGuidance = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var interval = s.EffectiveGuidanceInterval;
        bool spacing = s.Spacing != Schedulers.TimestepSpacing.TrailingName;
        bool autoGuided = s.AutoGuidance != 1;
        if (autoGuided && guideSha256 is null) throw new ArgumentException("an autoguided manifest needs the guide model's SHA-256");
        var sb = new StringBuilder(HeaderFor(sides, decoderSha256 is not null, interval is not null, spacing, autoGuided, distilledGuidance is not null)).Append('\n');
        foreach (var img in images)
        {
            var row = new List<string> { img.RelativePath.Replace('\\', '/'), img.Grade.ToString(inv), Quote(gradeNames[img.Grade]) };
            if (sides) row.Add(KneeSides.Label(img.Side));
            row.AddRange([
                img.Index.ToString(inv), seed.ToString(inv), ImageGenerator.NoiseStream(img.Grade, img.Side).ToString(inv), s.Sampler,
                s.Steps.ToString(inv)]);
            if (spacing) row.Add(s.Spacing);
            row.AddRange([s.EffectiveEta.ToString(inv), s.Guidance.ToString(inv)]);
            if (distilledGuidance is double baked) row.Add(baked.ToString("R", inv));
            if (interval is { } limited) row.Add(Quote(limited.ToString()));
            if (autoGuided) row.AddRange([s.AutoGuidance.ToString(inv), guideSha256!]);
            row.AddRange([outputSize.ToString(inv), modelSha256]);
            if (decoderSha256 is not null) row.Add(decoderSha256);
            row.Add(provider);
            sb.AppendJoin(',', row).Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>A CSV field as the manifests write it: quoted when it holds a comma or a quote, quotes doubled (<see cref="CsvFields"/> reads it back).</summary>
    public static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
