using System.Text.Json;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Reports;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

/// <summary>
/// augment-compare: two generated sets' verdicts against the same real-only classifiers, paired by seed. The paired
/// statistics are recomputed here from the classifier files themselves with the published t quantile for one degree
/// of freedom (t₀.₉₇₅,₁ = 12.7062), and the refusals name the file that breaks the pairing.
/// </summary>
public class AugmentationComparisonTests(ITestOutputHelper log)
{
    private static KneeDataset Knees(IEnumerable<int> grades, int perGrade, int firstIndex, int side = 32)
    {
        var images = new List<float[]>();
        var labels = new List<int>();
        foreach (int g in grades)
            for (int i = firstIndex; i < firstIndex + perGrade; i++)
            {
                images.Add(SyntheticKnees.Pixels(g, i, side).Select(KneeOnnx.Imaging.PixelScale.ToModel).ToArray());
                labels.Add(g);
            }
        return KneeDataset.FromMemory(side, images.ToArray(), labels.ToArray());
    }

    private const double TQuantile975OneDegree = 12.7062047;

    [Fact]
    public void TwoSetsAgainstTheSameRealOnlyArmsPairBySeedAndAMismatchedArmIsRefused()
    {
        using var dir = new TempDirectory();
        var train = Knees([0, 1, 2, 3, 4], perGrade: 8, firstIndex: 0);
        var val = Knees([0, 1, 2, 3, 4], perGrade: 4, firstIndex: 200);
        var config = new ClassifierConfig { ImageSize = 32, Widths = [8, 16, 32], Epochs = 2, BatchSize = 8, LearningRate = 3e-3, Threads = 2, Seed = 7, Precision = "fp32" };
        SeededAugmentationBenefit.Run(config, 2, train, val, Knees([0, 1, 2, 3, 4], perGrade: 6, firstIndex: 500), null, dir.Combine("first"), new StringWriter(), new ClassifierRunOptions());
        SeededAugmentationBenefit.Run(config, 2, train, val, Knees([0, 1, 2, 3, 4], perGrade: 3, firstIndex: 700), null, dir.Combine("second"), new StringWriter(), new ClassifierRunOptions(), dir.Combine("first"));

        var output = new StringWriter();
        var report = AugmentationComparison.Run(dir.Combine("first"), dir.Combine("second"), dir.Combine("cmp"), output);
        log.WriteLine(output.ToString());

        Assert.Equal([7L, 8L], report.Seeds);
        Assert.Empty(report.Unpaired);
        Assert.Equal([6, 6, 6, 6, 6], report.FirstPerGrade);
        Assert.Equal([3, 3, 3, 3, 3], report.SecondPerGrade);
        ClassifierHeader Header(string verdict, long seed, string file) => ClassifierFile.ReadHeader(dir.Combine(verdict, $"seed-{seed}", file));
        void Check(string name, Func<ClassifierHeader, double> of, string file)
        {
            var d = new[] { 7L, 8L }.Select(s => of(Header("second", s, file)) - of(Header("first", s, file))).ToArray();
            double mean = (d[0] + d[1]) / 2, sd = Math.Abs(d[0] - d[1]) / Math.Sqrt(2); // two values: s = |a − b| / √2
            var figure = report.Figures.Single(f => f.Name == name);
            Assert.Equal(mean, figure.Difference.Mean, 10);
            Assert.Equal(mean - TQuantile975OneDegree * sd / Math.Sqrt(2), figure.Difference.Low, 4);
            Assert.Equal(mean + TQuantile975OneDegree * sd / Math.Sqrt(2), figure.Difference.High, 4);
            Assert.Equal((of(Header("first", 7, file)) + of(Header("first", 8, file))) / 2, figure.First.Mean, 10);
        }
        Check("accuracy", h => h.ValAccuracy, AugmentationBenefit.AugmentedFile);
        Check("quadratic κ", h => h.ValQuadraticKappa, AugmentationBenefit.AugmentedFile);
        Check("KL4 recall", h => h.ValRecall[4], AugmentationBenefit.AugmentedFile);
        Check("CAS (generated only)", h => h.ValAccuracy, AugmentationBenefit.GeneratedOnlyFile);
        // The real-only column is the one classifier both verdicts share.
        Assert.Equal((Header("second", 7, AugmentationBenefit.RealOnlyFile).ValAccuracy + Header("second", 8, AugmentationBenefit.RealOnlyFile).ValAccuracy) / 2,
            report.Figures[0].RealOnly.Mean, 10);
        var written = JsonSerializer.Deserialize<AugmentationComparisonReport>(File.ReadAllText(dir.Combine("cmp", "augment-compare.json")), ReportJson.Options)!;
        Assert.Equal(report.Figures.Count, written.Figures.Count);
        Assert.Contains("| accuracy |", File.ReadAllText(dir.Combine("cmp", "augment-compare.md")));

        // A verdict whose seed-8 real-only classifier is another one: the pairing is broken, and the error names that file.
        CopyFolder(dir.Combine("second"), dir.Combine("other"));
        File.Copy(dir.Combine("second", "seed-7", AugmentationBenefit.RealOnlyFile), dir.Combine("other", "seed-8", AugmentationBenefit.RealOnlyFile), overwrite: true);
        var refused = Assert.Throws<ArgumentException>(() => AugmentationComparison.Run(dir.Combine("first"), dir.Combine("other"), dir.Combine("cmp2"), new StringWriter()));
        Assert.Contains(Path.Combine("other", "seed-8", AugmentationBenefit.RealOnlyFile), refused.Message);
        Assert.False(Directory.Exists(dir.Combine("cmp2")));

        // One shared seed cannot give an interval; the seeds each side holds are named.
        Directory.Delete(dir.Combine("other", "seed-8"), recursive: true);
        refused = Assert.Throws<ArgumentException>(() => AugmentationComparison.Run(dir.Combine("first"), dir.Combine("other"), dir.Combine("cmp3"), new StringWriter()));
        Assert.Contains("shares 1 finished seed with", refused.Message);
        Assert.Contains("seeds 7, 8 against 7", refused.Message);

        // The CLI: the same report, and bad input in one line with nothing written.
        var (code, stdout, err) = InProcessCli.Train("augment-compare", "--first", dir.Combine("first"), "--second", dir.Combine("second"), "--out", dir.Combine("cli"));
        Assert.True(code == 0, err);
        Assert.Contains("2 paired seeds", stdout);
        Assert.Equal(File.ReadAllText(dir.Combine("cmp", "augment-compare.md")), File.ReadAllText(dir.Combine("cli", "augment-compare.md")));
        (code, _, err) = InProcessCli.Train("augment-compare", "--first", dir.Combine("first"), "--second", dir.Combine("no-such"), "--out", dir.Combine("cli2"));
        Assert.Equal(2, code);
        Assert.Contains("no-such: --second folder not found", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.Combine("cli2")));
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
