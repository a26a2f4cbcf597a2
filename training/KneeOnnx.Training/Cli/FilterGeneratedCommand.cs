using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using CommandLine;
using KneeOnnx.IO;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Evaluation;
using KneeOnnx.Training.Filtering;
using KneeOnnx.Validation;

namespace KneeOnnx.Training.Cli;

[Verb("filter-generated", HelpText = "Copy the generated images a grade classifier reads as the grade they were asked for (at --min-probability or more) into OUT/<grade>/, with their manifest rows and filter.json: a training set without the model's grade misses.")]
public sealed class FilterGeneratedOptions : TorchOptions
{
    [Option("generated", Required = true, HelpText = "Folder of generated images, <grade>/*.png (as kneeonnx-gen generate writes it, manifest.csv beside).")]
    public string Generated { get; set; } = "";

    [Option("classifier", Required = true, HelpText = "Grade classifier file (.kcls, e.g. models/kl-resnet18-224.kcls).")]
    public string Classifier { get; set; } = "";

    [Option("out", Required = true, HelpText = "New folder for the kept images (must not exist, or be empty).")]
    public string Out { get; set; } = "";

    [Option("min-probability", Default = 0.0, HelpText = "Also require the classifier's probability of the asked grade to be at least this (0..1).")]
    public double MinProbability { get; set; }
}

internal static class FilterGeneratedCommand
{
    public const string ReportFile = "filter.json";

    public static int Run(FilterGeneratedOptions o, TextWriter output)
    {
        if (!(o.MinProbability is >= 0 and <= 1)) throw new ArgumentException($"--min-probability must be in [0, 1], got {o.MinProbability}");
        if (!Directory.Exists(o.Generated)) throw new ArgumentException($"{o.Generated}: --generated folder not found");
        ClassifierFile.RequireTarget(o.Classifier, "--classifier", ClassifierTarget.Grade);
        OutputGuard.Folder(o.Out, "--out", [new("--classifier", o.Classifier)], [new("--generated", o.Generated)]);
        if (Directory.Exists(o.Out) && Directory.EnumerateFileSystemEntries(o.Out).Any())
            throw new ArgumentException($"{o.Out}: --out already holds files; give a new folder");

        var (header, net) = ClassifierFile.Load(o.Classifier);
        using var _ = net;
        var images = ImageSet.Load(o.Generated, header.ImageSize, everyGrade: false);
        var probabilities = ClassifierTrainer.Probabilities(net, images.Images, header.ImageSize, header.MirrorAveraging);
        int[] kept = GradeFilter.Keep(images.Grades, probabilities, o.MinProbability);
        var counts = GradeFilter.Counts(images.Grades, kept);

        string root = Path.GetFullPath(o.Generated);
        var keptNames = kept.Select(i => Path.GetRelativePath(root, images.Files[i]).Replace('\\', '/')).ToHashSet(StringComparer.Ordinal);
        // Every manifest (sharded generate writes manifest.shard-k-of-N.csv) is read before anything is written.
        var manifests = Directory.EnumerateFiles(root, "manifest*.csv").Where(KneeOnnx.Output.ManifestProvenance.IsManifestName)
            .Order(StringComparer.Ordinal).Select(path => (Name: Path.GetFileName(path), Rows: KeptRows(path, keptNames))).ToList();
        int withoutRow = keptNames.Count(name => !manifests.Any(m => m.Rows.Names.Contains(name)));

        var report = new
        {
            generated = root,
            classifier = Path.GetFullPath(o.Classifier),
            classifier_sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(o.Classifier))),
            classifier_size = header.ImageSize,
            mirror_averaging = header.MirrorAveraging,
            min_probability = o.MinProbability,
            asked = counts.Sum(c => c.Asked),
            kept = kept.Length,
            per_grade = counts.Select(c => new { grade = c.Grade, asked = c.Asked, kept = c.Kept }),
            manifests = manifests.Select(m => m.Name),
            kept_without_manifest_row = withoutRow,
        };

        // Built in a sibling folder and renamed into place, so a failure never leaves a plausible half-set at --out.
        string final = Path.GetFullPath(o.Out);
        string staging = final.TrimEnd(Path.DirectorySeparatorChar) + $".partial-{Environment.ProcessId}";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        try
        {
            Directory.CreateDirectory(staging);
            foreach (var name in keptNames)
            {
                string target = Path.Combine(staging, name);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(Path.Combine(root, name), target);
            }
            foreach (var (name, rows) in manifests.Where(m => m.Rows.Lines.Count > 0))
                File.WriteAllText(Path.Combine(staging, name), string.Join("\n", rows.Lines) + "\n");
            File.WriteAllText(Path.Combine(staging, ReportFile), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            if (Directory.Exists(final)) Directory.Delete(final); // checked empty above
            Directory.Move(staging, final);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Format(inv, "kept {0} of {1} images ({2:P0}) read as their grade by {3}{4}", kept.Length, images.Count,
            images.Count == 0 ? 0 : (double)kept.Length / images.Count, Path.GetFileName(o.Classifier),
            o.MinProbability > 0 ? string.Format(inv, " at probability ≥ {0}", o.MinProbability) : ""));
        foreach (var c in counts)
            output.WriteLine(string.Format(inv, "  KL{0}: {1} of {2}", c.Grade, c.Kept, c.Asked));
        if (withoutRow > 0)
            output.WriteLine($"warning: {withoutRow} kept images have no row in {(manifests.Count == 0 ? "a manifest (there is none)" : string.Join(", ", manifests.Select(m => m.Name)))}: their seeds and model are not recorded");
        output.WriteLine($"wrote {Path.GetFullPath(o.Out)}");
        return 0;
    }

    /// <summary>The header and the rows of <paramref name="path"/> whose file column names a kept image.</summary>
    private static (List<string> Lines, HashSet<string> Names) KeptRows(string path, IReadOnlySet<string> kept)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0) return ([], []);
        int column = KneeOnnx.Output.CsvFields.Split(lines[0]).IndexOf("file");
        if (column < 0) throw new ArgumentException($"{path}: not a KneeOnnx manifest (its header has no file column)");
        var result = new List<string> { lines[0] };
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var fields = KneeOnnx.Output.CsvFields.Split(line);
            if (fields.Count > column && kept.Contains(fields[column]))
            {
                result.Add(line);
                names.Add(fields[column]);
            }
        }
        return (result, names);
    }
}
