using System.Diagnostics;
using System.Globalization;
using System.Text;
using CommandLine;
using KneeOnnx.Generation;
using KneeOnnx.Imaging;
using KneeOnnx.IO;
using KneeOnnx.Output;

namespace KneeOnnx.Cli;

[Verb("regrade", HelpText = "Redraw real knee X-rays at other KL grades (SDEdit): OUT/<grade>/<name>_kl<g>.png and OUT/manifest.csv. A knee keeps its starting noise across grades, so its versions differ by the grade: counterfactual training data, or one knee shown at every grade.")]
public sealed class RegradeOptions : SamplingOptions
{
    [Option("input", Required = true, HelpText = "A PNG knee X-ray, or a folder searched for *.png (any size, gray or colour; resized to the model's images). For a side-conditioned model the knee's side comes from --side.")]
    public string Input { get; set; } = "";

    [Option("grades", Default = "all", HelpText = "Grades to redraw each image at, e.g. 0,4 (default all).")]
    public string Grades { get; set; } = "all";

    [Option("side", Default = "auto", HelpText = "The knees' side for a side-conditioned model: auto (the side a file name states: 9003175L.png, knee_R.png, kl0_L_…png; else either side), L, R or any (either side).")]
    public string Side { get; set; } = "auto";

    [Option("strength", Default = 0.5, HelpText = "Share of the sampler's calls run from the noised image, (0, 1]: low keeps the knee and changes little, 1 forgets it and draws a new one.")]
    public double Strength { get; set; } = 0.5;

    [Option("out", Required = true, HelpText = "Output folder (new or empty).")]
    public string Out { get; set; } = "";

    [Option("size", HelpText = "Resize written PNGs to this side (e.g. 224 to sit beside the real images); default the model's image size. The contact sheet stays at the model's size.")]
    public int? Size { get; set; }

    [Option("sheet", HelpText = "Also write a contact sheet PNG here: one row per input image, the input first, then its version at each grade.")]
    public string? Sheet { get; set; }
}

internal static class RegradeCommand
{
    public static int Run(RegradeOptions o, TextWriter output)
    {
        if (!(o.Strength > 0 && o.Strength <= 1)) throw new ArgumentException($"--strength must be in (0, 1], got {o.Strength.ToString(CultureInfo.InvariantCulture)}");
        if (o.Size is < 8 or > 4096) throw new ArgumentException($"--size must be in 8..4096, got {o.Size}");
        if (o.Batch < 1) throw new ArgumentException($"--batch must be at least 1, got {o.Batch}");
        if (o.Sheet is not null && Directory.Exists(o.Sheet)) throw new ArgumentException($"{o.Sheet}: --sheet is a folder; give the PNG file name");
        string[] inputs = InputFiles(o.Input);
        var settings = o.ToSettings();
        o.ToRuntime(); // its options (--threads, --provider, ...) are checked before anything is created
        var (modelFiles, modelFolders) = o.SamplingInputs();
        Validation.OutputGuard.Folder(o.Out, "--out", [.. modelFiles, new("--input", File.Exists(o.Input) ? o.Input : null)], [.. modelFolders, new("--input", Directory.Exists(o.Input) ? o.Input : null)]);
        if (Directory.Exists(o.Out) && Directory.EnumerateFileSystemEntries(o.Out).Any())
            throw new ArgumentException($"{o.Out}: --out is not empty; regrade writes into a new or empty folder");
        if (o.Side is not ("auto" or "L" or "R" or "any")) throw new ArgumentException($"--side '{o.Side}' is not one of auto, L, R, any");
        if (o.Sheet is not null)
        {
            // The sheet must not land on an input knee, nor among them (the next run would read it as one).
            Validation.OutputGuard.File(o.Sheet, "--sheet", [.. modelFiles, .. inputs.Select(path => new Validation.OutputGuard.Input("--input", path))], Validation.FileKind.Png);
            if (Directory.Exists(o.Input) && Validation.RealPath.IsSameOrInside(Validation.RealPath.Of(o.Sheet), Validation.RealPath.Of(o.Input)))
                throw new ArgumentException($"{o.Sheet}: --sheet is inside the input folder {o.Input}; a later run would read it as a knee");
        }

        using var model = o.OpenModel(output);
        using var guide = o.OpenGuide(model);
        var info = model.Info;
        settings = o.ToSettings(info);
        settings.Validate(info);
        int[] grades = GradeList.Parse(o.Grades, info.GradeNames.Count);
        using var regrader = new Regrader(model, guide);
        int side = regrader.ImageSize, area = side * side;
        // Every input is read before anything is written: an unreadable file is one line naming it, and nothing is left behind.
        var reader = new GrayImageReader();
        var images = inputs.Select(path => reader.ReadScaled(path, side)).ToArray();
        if (!info.IsSideConditioned && o.Side is "L" or "R")
            throw new ArgumentException($"--side {o.Side}: {Path.GetFileName(model.Path)} is not side-conditioned (leave --side out)");
        var sides = inputs.Select(path => !info.IsSideConditioned ? KneeOnnx.KneeSides.None : o.Side switch
        {
            "L" => KneeOnnx.KneeSides.Left,
            "R" => KneeOnnx.KneeSides.Right,
            "any" => KneeOnnx.KneeSides.Null,
            _ => KneeOnnx.KneeSides.StatedIn(path) is var stated && stated != KneeOnnx.KneeSides.None ? stated : KneeOnnx.KneeSides.Null,
        }).ToArray();
        var names = UniqueStems(inputs);
        if (o.Sheet is not null)
        {
            var planned = grades.SelectMany(g => names.Select(n => Path.GetFullPath(Path.Combine(o.Out, g.ToString(CultureInfo.InvariantCulture), $"{n}_kl{g}.png"))));
            if (planned.Contains(Path.GetFullPath(o.Sheet)))
                throw new ArgumentException($"{o.Sheet}: --sheet is one of the images this run writes; give another name");
        }
        output.WriteLine($"regrade: {inputs.Length} image(s) from {o.Input} at grade(s) {string.Join(",", grades)}, strength {o.Strength.ToString(CultureInfo.InvariantCulture)} "
            + $"({KneeOnnx.Schedulers.TimestepSpacing.Partial(new int[settings.Steps], o.Strength).Length} of {settings.Steps} {settings.Sampler} calls{(settings.Spacing != KneeOnnx.Schedulers.TimestepSpacing.TrailingName ? $", {settings.Spacing} spacing" : "")}), seed {o.Seed}");

        Directory.CreateDirectory(o.Out);
        var timer = Stopwatch.StartNew();
        var made = new Dictionary<(int Input, int Grade), float[]>();
        var rows = new StringBuilder("file,source,grade,grade_name,side,index,seed,strength,sampler,steps,spacing,eta,guidance,distilled_guidance,image_size,model_sha256,decoder_sha256,encoder_sha256,provider\n");
        foreach (int grade in grades)
        {
            Directory.CreateDirectory(Path.Combine(o.Out, grade.ToString(CultureInfo.InvariantCulture)));
            // Inputs of one side share a batch: the side is one condition per call.
            foreach (var group in Enumerable.Range(0, inputs.Length).GroupBy(i => sides[i]))
                foreach (var chunk in group.Chunk(o.Batch))
                {
                    float[] pixels = regrader.Regrade(chunk.SelectMany(i => images[i]).ToArray(), grade, o.Seed, chunk.Select(i => (long)i).ToArray(), settings, o.Strength, group.Key);
                    for (int k = 0; k < chunk.Length; k++)
                    {
                        int i = chunk[k];
                        string relative = Path.Combine(grade.ToString(CultureInfo.InvariantCulture), $"{names[i]}_kl{grade}.png");
                        var image = pixels.AsSpan(k * area, area);
                        GrayPngWriter.Write(Path.Combine(o.Out, relative), image, side, o.Size);
                        if (o.Sheet is not null) made[(i, grade)] = image.ToArray(); // only the sheet needs them: a whole train set would not fit
                        rows.Append(string.Join(',', Manifest.Quote(relative.Replace('\\', '/')), Manifest.Quote(Path.GetFullPath(inputs[i])), grade, Manifest.Quote(info.GradeNames[grade]),
                            KneeOnnx.KneeSides.Label(sides[i]), i, o.Seed, o.Strength.ToString("R", CultureInfo.InvariantCulture), settings.Sampler, settings.Steps, settings.Spacing,
                            settings.EffectiveEta.ToString("R", CultureInfo.InvariantCulture), settings.Guidance.ToString("R", CultureInfo.InvariantCulture),
                            info.DistilledGuidance?.ToString("R", CultureInfo.InvariantCulture) ?? "", o.Size ?? side, model.Sha256, model.DecoderSha256 ?? "", regrader.EncoderSha256 ?? "", model.Provider)).Append('\n');
                    }
                }
            output.WriteLine($"{info.GradeNames[grade]}: {inputs.Length} image(s) ({timer.Elapsed.TotalSeconds:F1}s)");
        }
        AtomicFile.WriteAllText(Path.Combine(o.Out, Manifest.FileName(Output.Shard.Whole)), rows.ToString());
        if (o.Sheet is not null)
        {
            var sheetRows = Enumerable.Range(0, inputs.Length)
                .Select(i => (IReadOnlyList<float[]>)[images[i], .. grades.Select(g => made[(i, g)])]).ToList();
            ContactSheet.Write(o.Sheet, sheetRows, side, Math.Max(side, 96));
            output.WriteLine($"contact sheet: {o.Sheet} ({inputs.Length} rows: the input, then grades {string.Join(", ", grades)})");
        }
        output.WriteLine($"done: {inputs.Length * grades.Length} images in {timer.Elapsed.TotalSeconds:F1}s; listed in {Path.Combine(o.Out, Manifest.FileName(Output.Shard.Whole))}");
        return 0;
    }

    /// <summary>The PNG files --input names: the file itself, or a folder's *.png at any depth in ordinal order (the order fixes each image's noise).</summary>
    internal static string[] InputFiles(string input)
    {
        if (File.Exists(input)) return [input];
        if (!Directory.Exists(input)) throw new ArgumentException($"{input}: --input not found (a PNG file or a folder of them)");
        var files = Directory.EnumerateFiles(input, "*.png", new EnumerationOptions { RecurseSubdirectories = true, MatchCasing = MatchCasing.CaseInsensitive })
            .Order(StringComparer.Ordinal).ToArray();
        return files.Length > 0 ? files : throw new ArgumentException($"{input}: --input holds no .png files");
    }

    /// <summary>Output names from the inputs' file names, made unique where two folders hold the same name.</summary>
    private static string[] UniqueStems(string[] inputs)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        return inputs.Select(path =>
        {
            string stem = Path.GetFileNameWithoutExtension(path), name = stem;
            for (int k = 2; !taken.Add(name); k++) name = $"{stem}-{k}";
            return name;
        }).ToArray();
    }
}
