using System.Diagnostics;
using CommandLine;
using KneeOnnx.Generation;
using KneeOnnx.Output;

namespace KneeOnnx.Cli;

[Verb("grid", HelpText = "A PNG contact sheet, one row per grade (grade 0 on top). --progression: each column one starting noise, so a column shows the same knee at every grade.")]
public sealed class GridOptions : SamplingOptions
{
    [Option("grades", Default = "all", HelpText = "Rows, e.g. 0,2,4 (default all).")]
    public string Grades { get; set; } = "all";

    [Option("sides", HelpText = "Side-conditioned models: L, R, L,R (a row per grade and side, in the order given) or any (default).")]
    public string? Sides { get; set; }

    [Option("per-grade", Default = 6, HelpText = "Columns.")]
    public int PerGrade { get; set; }

    [Option("tile", HelpText = "Side of each tile in pixels (default the model's image size, at least 96).")]
    public int? Tile { get; set; }

    [Option("progression", HelpText = "Share each column's starting noise across grades and sample with deterministic DDIM (η = 0).")]
    public bool Progression { get; set; }

    [Option("out", Required = true, HelpText = "The PNG file to write.")]
    public string Out { get; set; } = "";
}

internal static class GridCommand
{
    public static int Run(GridOptions o, TextWriter output)
    {
        if (o.PerGrade is < 1 or > 64) throw new ArgumentException($"--per-grade must be in 1..64, got {o.PerGrade}");
        if (o.Tile is < 8 or > 1024) throw new ArgumentException($"--tile must be in 8..1024, got {o.Tile}");
        if (o.Batch < 1) throw new ArgumentException($"--batch must be at least 1, got {o.Batch}");
        if (Directory.Exists(o.Out)) throw new ArgumentException($"{o.Out}: --out is a folder; give the PNG file name");
        var settings = Settings(o, null);
        o.ToRuntime(); // its options (--threads, --provider, ...) are checked before anything is created
        Validation.OutputGuard.File(o.Out, "--out", o.SamplingInputs().Files, Validation.FileKind.Png);

        using var model = o.OpenModel(output);
        using var guide = o.OpenGuide(model);
        settings = Settings(o, model.Info);
        settings.Validate(model.Info);
        if (guide is not null) Runtime.GuideModelPairing.CheckGuidance(guide.Path, guide.Info, settings.Guidance);
        int[] grades = GradeList.Parse(o.Grades, model.Info.GradeNames.Count);
        int[] sides = SideList.Parse(o.Sides, model.Info);
        var rowKeys = grades.SelectMany(g => sides.Length == 0 ? [(Grade: g, Side: KneeSides.None)] : sides.Select(s => (Grade: g, Side: s))).ToArray();
        string? folder = Path.GetDirectoryName(Path.GetFullPath(o.Out));
        if (folder is not null) Directory.CreateDirectory(folder);

        using var generator = new ImageGenerator(model, guide);
        var timer = Stopwatch.StartNew();
        var rows = new List<IReadOnlyList<float[]>>();
        int area = generator.ValuesPerImage, total = rowKeys.Length * o.PerGrade, done = 0;
        var progress = new ThrottledProgressWriter(output, TimeSpan.FromSeconds(5));
        foreach (var (grade, side) in rowKeys)
        {
            var row = new List<float[]>();
            foreach (var chunk in Enumerable.Range(0, o.PerGrade).Select(i => (long)i).Chunk(o.Batch))
            {
                int before = done;
                var steps = new InlineProgress<int>(step => progress.Report(new GenerationProgress(before, total, chunk.Length, step, settings.Steps, timer.Elapsed)));
                float[] images = generator.Generate(grade, o.Seed, chunk, settings, shareNoiseAcrossGrades: o.Progression, steps: steps, side: side);
                done += chunk.Length;
                for (int i = 0; i < chunk.Length; i++) row.Add(images.AsSpan(i * area, area).ToArray());
            }
            rows.Add(row);
            output.WriteLine($"row {rows.Count}/{rowKeys.Length}: {model.Info.GradeNames[grade]}{(side == KneeSides.None ? "" : " " + KneeSides.Label(side))}");
        }
        int tile = o.Tile ?? Math.Max(generator.ImageSize, 96);
        ContactSheet.Write(o.Out, rows, generator.ImageSize, tile);
        output.WriteLine($"wrote {o.Out}: {rowKeys.Length} rows × {o.PerGrade} columns ({string.Join(", ", rowKeys.Select(k => model.Info.GradeNames[k.Grade] + (k.Side == KneeSides.None ? "" : " " + KneeSides.Label(k.Side))))}, top to bottom) "
            + $"with {settings.Sampler} {settings.Steps} steps"
            + Generation.AutoGuidanceOptions.Describe(settings.AutoGuidance, guide)
            + $" in {timer.Elapsed.TotalSeconds.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)}s");
        return 0;
    }

    /// <summary>A progression shows DDIM's deterministic trajectory; otherwise the options, or the model's own sampler.</summary>
    private static Generation.SamplerSettings Settings(GridOptions o, Runtime.ModelInfo? model) =>
        o.Progression ? o.ToSettings(model, forceSampler: "ddim") with { Eta = 0 } : o.ToSettings(model);
}
