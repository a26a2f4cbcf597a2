using System.Text.Json;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Filtering;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

/// <summary>filter-generated keeps what a grade classifier reads as the asked grade, and drops a model's misses.</summary>
public class GradeFilterTests(ITestOutputHelper log)
{
    private static int KeptWithoutManifestRow(string folder)
    {
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "filter.json")));
        return report.RootElement.GetProperty("kept_without_manifest_row").GetInt32();
    }

    /// <summary>A hand-made table: argmax must be the asked grade (a tie is not), and the threshold applies to its probability.</summary>
    [Fact]
    public void KeepsExactlyTheRowsReadAsTheirGradeAboveTheThreshold()
    {
        float[][] p =
        [
            [0.70f, 0.20f, 0.10f], // asked 0: read 0 at 0.70
            [0.40f, 0.45f, 0.15f], // asked 0: read 1
            [0.10f, 0.50f, 0.40f], // asked 1: read 1 at 0.50
            [0.30f, 0.35f, 0.35f], // asked 2: tie between 1 and 2
            [0.05f, 0.15f, 0.80f], // asked 2: read 2 at 0.80
        ];
        int[] asked = [0, 0, 1, 2, 2];
        Assert.Equal([0, 2, 4], GradeFilter.Keep(asked, p, 0));
        Assert.Equal([0, 4], GradeFilter.Keep(asked, p, 0.6));
        Assert.Equal([4], GradeFilter.Keep(asked, p, 0.75));
        Assert.Equal([new GradeKept(0, 2, 1), new GradeKept(1, 1, 1), new GradeKept(2, 2, 1)], GradeFilter.Counts(asked, [0, 2, 4]));
        Assert.Throws<ArgumentException>(() => GradeFilter.Keep(asked, p, 1.5));
        Assert.Throws<ArgumentException>(() => GradeFilter.Keep([0, 3], p[..2], 0));
    }

    /// <summary>
    /// A "generated" set where the KL4 folder holds 8 real-looking KL4 knees and 8 KL0 knees (a model's misses): a
    /// classifier trained on the synthetic grades must drop most misses and keep most good ones; the kept files are the
    /// originals byte for byte, the manifests (two shards) keep their rows only, filter.json counts what was written, and a folder that
    /// already holds files is refused in one line without being touched.
    /// </summary>
    [Fact]
    public void DropsTheImagesOfAnotherGradeAndKeepsTheirManifestRows()
    {
        TorchSharp.torch.set_num_threads(2);
        using var dir = new TempDirectory();
        var (trainImages, trainGrades) = SyntheticKnees.InMemory(24, 32);
        var valImages = new List<float[]>();
        var valGrades = new List<int>();
        for (int g = 0; g < 5; g++)
            for (int i = 200; i < 208; i++)
            {
                valImages.Add(SyntheticKnees.Pixels(g, i, 32).Select(KneeOnnx.Imaging.PixelScale.ToModel).ToArray());
                valGrades.Add(g);
            }
        string classifier = dir.Combine("grade.kcls");
        var best = ClassifierTrainer.Train(new ClassifierConfig { ImageSize = 32, Widths = [8, 16, 32], Epochs = 30, BatchSize = 16, LearningRate = 3e-3, Threads = 2 },
            KneeDataset.FromMemory(32, trainImages, trainGrades), KneeDataset.FromMemory(32, valImages.ToArray(), valGrades.ToArray()), classifier, new StringWriter());
        log.WriteLine($"classifier val accuracy {best.ValAccuracy:F2}");

        string generated = dir.Combine("gen");
        // Two shards, as generate --shard writes them, with a quoted field holding a comma.
        var shards = new[] { new List<string> { "file,grade_name,seed" }, new List<string> { "file,grade_name,seed" } };
        void Add(int askedGrade, int looksLike, int index)
        {
            string relative = $"{askedGrade}/kl{askedGrade}_{index:D4}.png";
            Directory.CreateDirectory(Path.Combine(generated, askedGrade.ToString()));
            SyntheticKnees.WritePng(Path.Combine(generated, relative), SyntheticKnees.Pixels(looksLike, 500 + index, 32), 32);
            shards[index % 2].Add($"{relative},\"KL-{askedGrade}, asked\",{index}");
        }
        for (int i = 0; i < 8; i++) Add(4, 4, i);
        for (int i = 8; i < 16; i++) Add(4, 0, i); // the misses
        for (int i = 16; i < 24; i++) Add(0, 0, i);
        File.WriteAllLines(Path.Combine(generated, "manifest.shard-1-of-2.csv"), shards[0]);
        File.WriteAllLines(Path.Combine(generated, "manifest.shard-2-of-2.csv"), shards[1]);

        string kept = dir.Combine("kept");
        var run = InProcessCli.Train("filter-generated", "--generated", generated, "--classifier", classifier, "--out", kept);
        Assert.True(run.Code == 0, run.Err);
        log.WriteLine(run.Out);
        var files = Directory.EnumerateFiles(kept, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(kept, f).Replace('\\', '/')).Order().ToList();
        int goodKL4 = files.Count(f => f.StartsWith("4/", StringComparison.Ordinal) && int.Parse(f[^8..^4]) < 8);
        int misses = files.Count(f => f.StartsWith("4/", StringComparison.Ordinal) && int.Parse(f[^8..^4]) >= 8);
        int goodKL0 = files.Count(f => f.StartsWith("0/", StringComparison.Ordinal));
        Assert.True(misses <= 1, $"{misses} of 8 KL0 knees in the KL4 folder were kept");
        Assert.True(goodKL4 >= 6 && goodKL0 >= 6, $"kept only {goodKL4} of 8 KL4 and {goodKL0} of 8 KL0 knees");
        foreach (var f in files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(generated, f)), File.ReadAllBytes(Path.Combine(kept, f)));
        var rows = new[] { "manifest.shard-1-of-2.csv", "manifest.shard-2-of-2.csv" }.SelectMany(name =>
        {
            var lines = File.ReadAllLines(Path.Combine(kept, name));
            Assert.Equal("file,grade_name,seed", lines[0]);
            return lines.Skip(1);
        }).ToList();
        Assert.Equal(files, rows.Select(r => r.Split(',')[0]).Order().ToList());
        Assert.All(rows, r => Assert.Contains(", asked\"", r));
        Assert.Equal(0, KeptWithoutManifestRow(kept));
        Assert.Empty(Directory.EnumerateDirectories(dir.Path, "kept.partial-*"));
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(kept, "filter.json")));
        Assert.Equal(24, report.RootElement.GetProperty("asked").GetInt32());
        Assert.Equal(files.Count, report.RootElement.GetProperty("kept").GetInt32());
        var perGrade = report.RootElement.GetProperty("per_grade").EnumerateArray().ToDictionary(e => e.GetProperty("grade").GetInt32(), e => e.GetProperty("kept").GetInt32());
        Assert.Equal(goodKL0, perGrade[0]);
        Assert.Equal(goodKL4 + misses, perGrade[4]);

        var before = Directory.EnumerateFiles(kept, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        var refused = InProcessCli.Train("filter-generated", "--generated", generated, "--classifier", classifier, "--out", kept);
        Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.BadInputExitCode, refused.Code);
        Assert.Contains(kept, refused.Err);
        Assert.Single(refused.Err.Trim().Split('\n'));
        Assert.Equal(before.Keys.Order(), Directory.EnumerateFiles(kept, "*", SearchOption.AllDirectories).Order());
        foreach (var (f, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(f));
    }
}
