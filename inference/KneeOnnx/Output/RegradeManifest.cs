using System.Globalization;
using System.Text;
using KneeOnnx.IO;
using KneeOnnx.Validation;

namespace KneeOnnx.Output;

/// <summary>One image a regrade run writes: <paramref name="Source"/> redrawn at <paramref name="Grade"/>.</summary>
/// <param name="File">path under the output folder, '/'-separated (<c>GRADE/NAME_klGRADE.png</c>).</param>
/// <param name="Source">the input's full path.</param>
/// <param name="NoiseKey">the input's path relative to --input ('/'-separated; the file name for a single file): its hash keys the starting noise.</param>
/// <param name="Input">the input's position in the run's sorted input list (not recorded: it only indexes the run's arrays).</param>
public sealed record RegradedImage(string File, string Source, string NoiseKey, int Grade, int Side, int Input);

/// <summary>
/// regrade's manifest.csv: one row per redrawn image with everything that made it, in a fixed set of columns. Written
/// before the first image (header only), then after the first batch, every 30 s and at the end, so it lists only
/// files that exist; a rerun of the same command reads it, keeps the images it lists and draws the rest. Images on
/// disk that it does not list (a run killed between two writes) are drawn again.
/// </summary>
/// <param name="ClipX0">the x̂₀ clipping the run used: on, off, or auto (the sampler's own default).</param>
public sealed record RegradeManifest(ImageProvenance Request, double Strength, string? EncoderSha256, double? DistilledGuidance, string ClipX0)
{
    public const string FileName = "manifest.csv";

    public const string Header = "file,source,grade,grade_name,side,noise_key,seed,strength,sampler,steps,spacing,eta,clip_x0,guidance,distilled_guidance,guidance_interval,"
        + "autoguidance,guide_sha256,image_size,model_sha256,decoder_sha256,encoder_sha256,provider";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The manifest listing <paramref name="images"/> (those that exist), written atomically.</summary>
    public void Write(string path, IEnumerable<RegradedImage> images, IReadOnlyList<string> gradeNames)
    {
        var r = Request;
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var image in images)
            sb.AppendJoin(',', Manifest.Quote(image.File), Manifest.Quote(image.Source), image.Grade.ToString(Inv), Manifest.Quote(gradeNames[image.Grade]),
                KneeSides.Label(image.Side), Manifest.Quote(image.NoiseKey), r.Seed.ToString(Inv), Strength.ToString("R", Inv), r.Sampler, r.Steps.ToString(Inv), r.Spacing,
                r.Eta.ToString("R", Inv), ClipX0, r.Guidance.ToString("R", Inv), DistilledGuidance?.ToString("R", Inv) ?? "", Manifest.Quote(r.GuidanceInterval?.ToString() ?? ""),
                r.AutoGuidance.ToString("R", Inv), r.GuideSha256 ?? "", r.ImageSize.ToString(Inv), r.ModelSha256, r.DecoderSha256 ?? "", EncoderSha256 ?? "", r.Provider ?? "").Append('\n');
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>
    /// The files of <paramref name="plan"/> that the manifest in <paramref name="outDir"/> lists and that exist: the images a
    /// rerun keeps. An empty or absent folder has none. A non-empty folder without a regrade manifest, or one whose rows were
    /// made otherwise (another model, provider, strength, sampler, clipping, seed, size, or another input at the same
    /// file), is refused in one line naming the manifest and the difference; so is a listed file this run would not make
    /// (a removed input or grade). An empty manifest claims nothing.
    /// </summary>
    public IReadOnlySet<string> Kept(string outDir, IReadOnlyList<RegradedImage> plan)
    {
        var kept = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(outDir) || !Directory.EnumerateFileSystemEntries(outDir).Any()) return kept;
        string path = Path.Combine(outDir, FileName);
        if (!File.Exists(path) || FileTypes.Of(path) != FileType.Regular)
            throw new ArgumentException($"{outDir}: --out is not empty and holds no regrade manifest.csv; regrade writes into a new or empty folder, or resumes its own");
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return kept;
        if (lines[0] != Header)
            throw new ArgumentException($"{path}: not a regrade manifest (another header); choose another --out");
        var planned = plan.ToDictionary(p => p.File, StringComparer.Ordinal);
        var header = CsvFields.Split(lines[0]);
        for (int n = 1; n < lines.Length; n++)
        {
            if (lines[n].Length == 0) continue;
            var fields = CsvFields.Split(lines[n]);
            if (fields.Count != header.Count)
                throw new ArgumentException($"{path}: line {n + 1} has {fields.Count} fields, the header {header.Count}; choose another --out");
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Count; i++) row[header[i]] = fields[i];
            string? difference = Request.DifferenceFrom(row) ?? DifferenceFrom(row, planned);
            if (difference is not null) throw new ArgumentException($"{path}: {difference}; choose another --out, or rerun the command that wrote it");
            if (planned.ContainsKey(row["file"]) && File.Exists(Path.Combine(outDir, row["file"]))) kept.Add(row["file"]);
        }
        return kept;
    }

    private string? DifferenceFrom(IReadOnlyDictionary<string, string> row, IReadOnlyDictionary<string, RegradedImage> planned)
    {
        if (!double.TryParse(row["strength"], NumberStyles.Float, Inv, out double strength) || strength != Strength)
            return $"written at strength {row["strength"]}, this run asks for {Strength.ToString(Inv)}";
        if ((row["encoder_sha256"] is { Length: > 0 } e ? e : null) != EncoderSha256)
            return $"written through the encoder of sha256 {Short(row["encoder_sha256"])}, this run's has sha256 {Short(EncoderSha256 ?? "")}";
        if (row["clip_x0"] != ClipX0)
            return $"written with --clip-x0 {row["clip_x0"]}, this run asks for {ClipX0}";
        if (!planned.TryGetValue(row["file"], out var image))
            return $"{row["file"]} is not among the images this run makes (an input or grade the earlier run had is missing)";
        if (row["source"] != image.Source)
            return $"{row["file"]} was redrawn from {row["source"]}, this run redraws {image.Source} into it";
        if (row["noise_key"] != image.NoiseKey)
            return $"{row["file"]} drew its noise as {row["noise_key"]} under its --input, this run as {image.NoiseKey} (give the same --input)";
        if (row["side"] != KneeSides.Label(image.Side))
            return $"{row["file"]} was redrawn as side {row["side"]}, this run asks for {KneeSides.Label(image.Side)}";
        return null;
    }

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha.Length == 0 ? "(none)" : sha;
}
