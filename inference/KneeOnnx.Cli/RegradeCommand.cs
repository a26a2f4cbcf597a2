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

    [Option("out", Required = true, HelpText = "Output folder: new or empty, or one this same command left unfinished (it keeps the images its manifest lists and makes the rest).")]
    public string Out { get; set; } = "";

    [Option("size", HelpText = "Resize written PNGs to this side (e.g. 224 to sit beside the real images); default the model's image size. The contact sheet stays at the model's size.")]
    public int? Size { get; set; }

    [Option("sheet", HelpText = "Also write a contact sheet PNG here: one row per input image, the input first, then its version at each grade (a resumed run reads the earlier images back from their PNGs).")]
    public string? Sheet { get; set; }

    [Option("max-minutes", HelpText = "Stop before a batch that would end after this many minutes (judged by the last batch); the same command again makes the rest.")]
    public double? MaxMinutes { get; set; }
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
        if (Directory.Exists(o.Out) && Directory.EnumerateFileSystemEntries(o.Out).Any() && !File.Exists(Path.Combine(o.Out, RegradeManifest.FileName)))
            throw new ArgumentException($"{o.Out}: --out is not empty and holds no regrade manifest.csv; regrade writes into a new or empty folder, or resumes its own");
        DateTime? stopBy = Validation.TimeLimit.StopBy(o.MaxMinutes, DateTime.UtcNow);
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
        // Each knee's noise is keyed by its path under --input (its name for a single file), not by its place in the
        // list: a file added to the folder leaves the others' versions as they were, and a rerun can resume.
        string root = File.Exists(o.Input) ? Path.GetDirectoryName(Path.GetFullPath(o.Input))! : Path.GetFullPath(o.Input);
        var plan = grades.SelectMany(g => inputs.Select((path, i) => new RegradedImage($"{g.ToString(CultureInfo.InvariantCulture)}/{names[i]}_kl{g.ToString(CultureInfo.InvariantCulture)}.png",
            Path.GetFullPath(path), Path.GetRelativePath(root, Path.GetFullPath(path)).Replace('\\', '/'), g, sides[i], i))).ToList();
        if (o.Sheet is not null && plan.Select(p => Path.GetFullPath(Path.Combine(o.Out, p.File))).Contains(Path.GetFullPath(o.Sheet)))
            throw new ArgumentException($"{o.Sheet}: --sheet is one of the images this run writes; give another name");
        var manifest = new RegradeManifest(new ImageProvenance(o.Model ?? Path.GetFileName(model.Path), model.Sha256, model.DecoderSha256, o.Size ?? side, settings.Sampler,
            settings.Steps, settings.EffectiveEta, settings.Guidance, o.Seed, settings.EffectiveGuidanceInterval, settings.Spacing, settings.AutoGuidance, guide?.Sha256, model.Provider),
            o.Strength, regrader.EncoderSha256, info.DistilledGuidance, settings.ClipFor(info) switch { true => "on", false => "off", null => "auto" });
        var done = new HashSet<string>(manifest.Kept(o.Out, plan), StringComparer.Ordinal);
        var pending = plan.Where(p => !done.Contains(p.File)).ToList();
        output.WriteLine($"regrade: {inputs.Length} image(s) from {o.Input} at grade(s) {string.Join(",", grades)}, strength {o.Strength.ToString(CultureInfo.InvariantCulture)} "
            + $"({KneeOnnx.Schedulers.TimestepSpacing.Partial(new int[settings.Steps], o.Strength).Length} of {settings.Steps} {settings.Sampler} calls{(settings.Spacing != KneeOnnx.Schedulers.TimestepSpacing.TrailingName ? $", {settings.Spacing} spacing" : "")}), seed {o.Seed}"
            + (done.Count > 0 ? $"; {done.Count} of {plan.Count} already made, {pending.Count} to make" : ""));

        Directory.CreateDirectory(o.Out);
        string manifestPath = Path.Combine(o.Out, RegradeManifest.FileName);
        AtomicFile.RemoveStaleTemporaries(o.Out, stem => stem == AtomicFile.StemOf(RegradeManifest.FileName));
        // Before the first image or folder: from here on the folder always says what made it.
        void WriteManifest() => manifest.Write(manifestPath, plan.Where(p => done.Contains(p.File)), info.GradeNames);
        WriteManifest();
        var plannedStems = plan.Select(p => AtomicFile.StemOf(Path.GetFileName(p.File))).ToHashSet();
        foreach (int grade in grades)
        {
            string dir = Path.Combine(o.Out, grade.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(dir);
            AtomicFile.RemoveStaleTemporaries(dir, plannedStems.Contains);
        }
        var timer = Stopwatch.StartNew();
        var lastManifest = Stopwatch.StartNew();
        double? secondsPerImage = null;
        bool stopped = false;
        int madeCount = 0;
        foreach (var gradeGroup in pending.GroupBy(p => p.Grade))
        {
            // Inputs of one side share a batch: the side is one condition per call.
            foreach (var chunk in gradeGroup.GroupBy(p => p.Side).SelectMany(group => group.Chunk(o.Batch)))
            {
                if (stopBy is DateTime limit && secondsPerImage is double perImage && DateTime.UtcNow.AddSeconds(perImage * chunk.Length) > limit) { stopped = true; break; }
                var batchTimer = Stopwatch.StartNew();
                float[] pixels = regrader.Regrade(chunk.SelectMany(p => images[p.Input]).ToArray(), gradeGroup.Key, o.Seed,
                    chunk.Select(p => Regrader.NoiseIndex(p.NoiseKey)).ToArray(), settings, o.Strength, chunk[0].Side);
                for (int k = 0; k < chunk.Length; k++)
                {
                    var image = pixels.AsSpan(k * area, area);
                    GrayPngWriter.Write(Path.Combine(o.Out, chunk[k].File), image, side, o.Size);
                    done.Add(chunk[k].File);
                }
                madeCount += chunk.Length;
                secondsPerImage = batchTimer.Elapsed.TotalSeconds / chunk.Length;
                if (madeCount == chunk.Length || lastManifest.Elapsed.TotalSeconds > 30)
                {
                    WriteManifest();
                    lastManifest.Restart();
                }
            }
            if (stopped) break;
            output.WriteLine($"{info.GradeNames[gradeGroup.Key]}: {gradeGroup.Count()} image(s) ({timer.Elapsed.TotalSeconds:F1}s)");
        }
        WriteManifest();
        if (stopped)
        {
            output.WriteLine($"stopped by --max-minutes: {madeCount} of {pending.Count} new images made in {timer.Elapsed.TotalSeconds:F1}s, the next batch would end later; "
                + $"the same command again makes the other {pending.Count - madeCount}" + (o.Sheet is not null ? " (and the --sheet)" : "") + $"; {manifestPath} lists the images made so far");
            return 0;
        }
        if (o.Sheet is not null)
        {
            // From the PNGs, as generate's sheet: a resumed run's sheet is then the uninterrupted run's, --size or not.
            var files = plan.ToDictionary(p => (p.Input, p.Grade), p => p.File);
            var sheetRows = Enumerable.Range(0, inputs.Length)
                .Select(i => (IReadOnlyList<float[]>)[images[i], .. grades.Select(g => reader.ReadScaled(Path.Combine(o.Out, files[(i, g)]), side))]).ToList();
            ContactSheet.Write(o.Sheet, sheetRows, side, Math.Max(side, 96));
            output.WriteLine($"contact sheet: {o.Sheet} ({inputs.Length} rows: the input, then grades {string.Join(", ", grades)})");
        }
        output.WriteLine($"done: {madeCount} images in {timer.Elapsed.TotalSeconds:F1}s{(done.Count > madeCount ? $" ({done.Count - madeCount} made earlier)" : "")}; listed in {manifestPath}");
        return 0;
    }

    /// <summary>The PNG files --input names: the file itself, or a folder's *.png at any depth in ordinal order (the order of the manifest and the sheet).</summary>
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
