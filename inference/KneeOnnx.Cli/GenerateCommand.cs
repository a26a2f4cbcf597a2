using System.Diagnostics;
using CommandLine;
using KneeOnnx.Generation;
using KneeOnnx.Imaging;
using KneeOnnx.IO;
using KneeOnnx.Output;

namespace KneeOnnx.Cli;

[Verb("generate", HelpText = "Generate an augmentation dataset: OUT/<grade>/*.png (ImageFolder layout) and OUT/manifest.csv. Rerunning the same command resumes.")]
public sealed class GenerateOptions : SamplingOptions
{
    [Option("grades", Default = "all", HelpText = "Grades to generate, e.g. 0,2,4 (default all).")]
    public string Grades { get; set; } = "all";

    [Option("sides", HelpText = "Side-conditioned models: L, R, L,R (--per-grade images of each) or any (default: the model picks). File names and manifest.csv's side column carry it; folders stay <grade>/.")]
    public string? Sides { get; set; }

    [Option("per-grade", HelpText = "Images per grade (per side with --sides L,R): one count for every grade, or one per grade of --grades, e.g. 0,100,100,300,600 (default 8).")]
    public string? PerGrade { get; set; }

    [Option("fill-to", HelpText = "Instead of --per-grade: make what brings each grade of the --real set up to N images (real + generated; split over --sides), e.g. to balance a training set.")]
    public int? FillTo { get; set; }

    [Option("real", HelpText = "The real set --fill-to counts: a folder of <grade>/*.png (e.g. your train split).")]
    public string? Real { get; set; }

    [Option("out", Required = true, HelpText = "Output folder.")]
    public string Out { get; set; } = "";

    [Option("size", HelpText = "Resize written PNGs to this side (e.g. 224 to sit beside the real images); default the model's size (its decoder's for a latent model).")]
    public int? Size { get; set; }

    [Option("shard", HelpText = "k/N: generate only part k (0-based) of N; Slurm array and Kubernetes indexed-Job variables are used when absent.")]
    public string? Shard { get; set; }

    [Option("sheet", HelpText = "Also write a contact sheet PNG here: one row per grade, the first --sheet-columns images of each.")]
    public string? Sheet { get; set; }

    [Option("sheet-columns", Default = 8, HelpText = "Images per row of the --sheet.")]
    public int SheetColumns { get; set; }

    [Option("shard-count", HelpText = "N for a Kubernetes indexed Job (JOB_COMPLETION_INDEX gives k).")]
    public int? ShardCount { get; set; }

    [Option("max-minutes", HelpText = "Stop before a batch that would end after this many minutes (judged by the last batch); the same command again makes the rest.")]
    public double? MaxMinutes { get; set; }
}

internal static class GenerateCommand
{
    public static int Run(GenerateOptions o, TextWriter output)
    {
        if (o.FillTo is not null && o.PerGrade is not null) throw new ArgumentException("--fill-to and --per-grade both say how many images to make; give one");
        if (o.FillTo is not null && o.Real is null) throw new ArgumentException("--fill-to needs --real, the folder of <grade>/*.png it fills up");
        if (o.Real is not null && o.FillTo is null) throw new ArgumentException("--real is only read by --fill-to");
        if (o.FillTo is < 1) throw new ArgumentException($"--fill-to must be at least 1, got {o.FillTo}");
        if (o.PerGrade is not null) GradeCounts.ParseList(o.PerGrade); // checked before the model is opened
        if (o.Batch < 1) throw new ArgumentException($"--batch must be at least 1, got {o.Batch}");
        if (o.Size is < 8 or > 4096) throw new ArgumentException($"--size must be in 8..4096, got {o.Size}");
        if (o.Sheet is not null && Directory.Exists(o.Sheet)) throw new ArgumentException($"{o.Sheet}: --sheet is a folder; give the PNG file name");
        if (o.SheetColumns < 1) throw new ArgumentException($"--sheet-columns must be at least 1, got {o.SheetColumns}");
        DateTime? stopBy = Validation.TimeLimit.StopBy(o.MaxMinutes, DateTime.UtcNow);
        var shard = Output.Shard.Resolve(o.Shard, o.ShardCount, Environment.GetEnvironmentVariable);
        var settings = o.ToSettings();
        o.ToRuntime(); // its options (--threads, --provider, ...) are checked before anything is created
        var (modelFiles, modelFolders) = o.SamplingInputs();
        Validation.OutputGuard.Folder(o.Out, "--out", modelFiles, [.. modelFolders, new("--real", o.Real)]);
        if (o.Sheet is not null) Validation.OutputGuard.File(o.Sheet, "--sheet", modelFiles, Validation.FileKind.Png);
        if (o.Sheet is not null && !shard.IsWhole)
            throw new ArgumentException($"--sheet needs the whole run: shard {shard} holds only part of each grade (make the sheet with grid, or after the shards finish)");

        using var model = o.OpenModel(output);
        using var guide = o.OpenGuide(model);
        var info = model.Info;
        settings = o.ToSettings(info);
        settings.Validate(info);
        if (guide is not null) Runtime.GuideModelPairing.CheckGuidance(guide.Path, guide.Info, settings.Guidance);
        int[] grades = GradeList.Parse(o.Grades, info.GradeNames.Count);
        int[] sides = SideList.Parse(o.Sides, info);
        int outputSize = o.Size ?? info.OutputImageSize;
        int[] counts;
        if (o.FillTo is int total)
        {
            int[] real = GradeCounts.CountReal(o.Real!, grades);
            counts = GradeCounts.FillTo(total, real, Math.Max(1, sides.Length));
            output.WriteLine($"fill to {total} per grade: {o.Real} holds {string.Join(" / ", real)} (grades {string.Join(",", grades)}); making {string.Join(" / ", counts)}" + (sides.Length > 1 ? " per side" : ""));
            if (counts.All(c => c == 0))
            {
                output.WriteLine($"done: nothing to make, every grade of {o.Real} already holds at least {total} images");
                return 0;
            }
        }
        else counts = o.PerGrade is null ? grades.Select(_ => 8).ToArray() : GradeCounts.Parse(o.PerGrade, grades);
        var plan = GenerationPlan.Build(grades, counts, o.Seed, settings, shard, sides);
        // A folder another request wrote into is refused before anything is touched: its manifest must keep telling the truth.
        ManifestProvenance.RequireSame(o.Out, new ImageProvenance(o.Model ?? Path.GetFileName(model.Path), model.Sha256, model.DecoderSha256, outputSize,
            settings.Sampler, settings.Steps, settings.EffectiveEta, settings.Guidance, o.Seed, settings.EffectiveGuidanceInterval, settings.Spacing, settings.AutoGuidance, guide?.Sha256, model.Provider));

        Directory.CreateDirectory(o.Out);
        AtomicFile.RemoveStaleTemporaries(o.Out, stem => stem == AtomicFile.StemOf(Manifest.FileName(shard)));
        // Only this shard's own temporaries: other shards may be writing into the same folders right now.
        var planned = plan.Select(p => AtomicFile.StemOf(Path.GetFileName(p.RelativePath))).ToHashSet();
        foreach (int g in grades.Where((_, k) => counts[k] > 0))
        {
            string dir = Path.Combine(o.Out, g.ToString());
            Directory.CreateDirectory(dir);
            AtomicFile.RemoveStaleTemporaries(dir, planned.Contains);
        }
        var pending = plan.Where(p => !File.Exists(Path.Combine(o.Out, p.RelativePath))).ToList();
        string latent = model.Decoder is { } d ? $"; {info.Channels}×{info.ImageSize}² latents → {info.OutputImageSize}² by {Path.GetFileName(Path.GetDirectoryName(d.Path))}/{Path.GetFileName(d.Path)}, sha256 {d.Sha256[..12]}" : "";
        output.WriteLine($"model {Path.GetFileName(model.Path)} ({info.ImageSize}², sha256 {model.Sha256[..12]}{latent}); {settings.Sampler} {settings.Steps} steps"
            + (settings.Spacing != KneeOnnx.Schedulers.TimestepSpacing.TrailingName ? $" ({settings.Spacing} spacing)" : "")
            + (settings.Guidance != 1 ? $", guidance {settings.Guidance.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "") + (settings.EffectiveGuidanceInterval is { } gi ? $" at σ in ({gi}]" : "")
            + (info.DistilledGuidance is { } baked ? $", guidance {baked.ToString(System.Globalization.CultureInfo.InvariantCulture)} distilled into the model" : "")
            + Generation.AutoGuidanceOptions.Describe(settings.AutoGuidance, guide) + (sides.Length > 0 ? $"; sides {string.Join(",", sides.Select(KneeSides.Label))}" : "") + $"; shard {shard}: {plan.Count} images, {plan.Count - pending.Count} already present, {pending.Count} to make");

        string manifestPath = Path.Combine(o.Out, Manifest.FileName(shard));
        void WriteManifest() => Manifest.Write(manifestPath, plan.Where(p => File.Exists(Path.Combine(o.Out, p.RelativePath))),
            info.GradeNames, o.Seed, settings, outputSize, model.Sha256, model.Provider, sides: info.IsSideConditioned, decoderSha256: model.DecoderSha256, guideSha256: guide?.Sha256,
            distilledGuidance: info.DistilledGuidance);

        using var generator = new ImageGenerator(model, guide);
        var timer = Stopwatch.StartNew();
        var lastManifest = Stopwatch.StartNew();
        bool manifestWritten = false;
        int done = 0;
        int made = generator.WritePlanned(pending, o.Seed, settings, o.Out, o.Batch, outputSize, count =>
            {
                done = count;
                double rate = done / timer.Elapsed.TotalSeconds;
                var eta = TimeSpan.FromSeconds((pending.Count - done) / Math.Max(rate, 1e-9));
                output.WriteLine($"{done}/{pending.Count} images  {rate:F2} img/s  ETA {eta:hh\\:mm\\:ss}");
                // The first batch's images are listed at once, so even a run killed early leaves its provenance behind.
                if (!manifestWritten || lastManifest.Elapsed.TotalSeconds > 30)
                {
                    manifestWritten = true;
                    WriteManifest();
                    lastManifest.Restart();
                }
            }, new ThrottledProgressWriter(output, TimeSpan.FromSeconds(5)), stopBy);
        WriteManifest();
        if (made < pending.Count)
        {
            output.WriteLine($"stopped by --max-minutes: {made} of {pending.Count} new images made in {timer.Elapsed.TotalSeconds:F1}s, the next batch would end later; "
                + $"the same command again makes the other {pending.Count - made}" + (o.Sheet is not null ? " (and the --sheet)" : "") + $"; {manifestPath} lists the images made so far");
            return 0;
        }
        if (o.Sheet is not null)
        {
            var reader = new GrayImageReader();
            var rows = plan.GroupBy(p => (p.Grade, p.Side)).Select(row => (IReadOnlyList<float[]>)row.Take(o.SheetColumns)
                .Select(p => reader.ReadScaled(Path.Combine(o.Out, p.RelativePath), info.OutputImageSize)).ToList()).Where(r => r.Count > 0).ToList();
            if (rows.Count > 0)
            {
                ContactSheet.Write(o.Sheet, rows, info.OutputImageSize, Math.Max(info.OutputImageSize, 96));
                output.WriteLine($"contact sheet: {o.Sheet} ({rows.Count} rows, grades {string.Join(", ", grades)}{(sides.Length > 1 ? $" × sides {string.Join(",", sides.Select(KneeSides.Label))}" : "")} top to bottom)");
            }
        }
        output.WriteLine($"done: {done} new images in {timer.Elapsed.TotalSeconds:F1}s" + (done > 0 ? $" ({done / timer.Elapsed.TotalSeconds:F2} img/s)" : "")
            + $"; {plan.Count} listed in {manifestPath}");
        return 0;
    }
}
