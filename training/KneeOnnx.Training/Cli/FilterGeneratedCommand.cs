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
    private const string ManifestFile = "manifest.csv";

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
        var keptNames = new HashSet<string>(StringComparer.Ordinal);
        Directory.CreateDirectory(o.Out);
        foreach (int i in kept)
        {
            string relative = Path.GetRelativePath(root, images.Files[i]);
            string target = Path.Combine(o.Out, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(images.Files[i], target);
            keptNames.Add(relative.Replace('\\', '/'));
        }
        string manifest = Path.Combine(root, ManifestFile);
        if (File.Exists(manifest))
        {
            // The manifest's rows of the kept images: seeds, sampler and model hashes travel with them.
            var lines = File.ReadAllLines(manifest);
            var rows = lines.Skip(1).Where(line => keptNames.Contains(line.Split(',')[0]));
            AtomicFile.WriteAllText(Path.Combine(o.Out, ManifestFile), string.Join("\n", lines.Take(1).Concat(rows)) + "\n");
        }
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
        };
        AtomicFile.WriteAllText(Path.Combine(o.Out, ReportFile), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Format(inv, "kept {0} of {1} images ({2:P0}) read as their grade by {3}{4}", kept.Length, images.Count,
            images.Count == 0 ? 0 : (double)kept.Length / images.Count, Path.GetFileName(o.Classifier),
            o.MinProbability > 0 ? string.Format(inv, " at probability ≥ {0}", o.MinProbability) : ""));
        foreach (var c in counts)
            output.WriteLine(string.Format(inv, "  KL{0}: {1} of {2}", c.Grade, c.Kept, c.Asked));
        output.WriteLine($"wrote {Path.GetFullPath(o.Out)}");
        return 0;
    }
}
