using System.Globalization;
using System.Text.Json;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Reports;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

public class AugmentationBenefitTests(ITestOutputHelper log)
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

    /// <summary>The seeded verdicts' small setting: 8 train, 4 val and 6 generated knees per grade, a tiny CNN from seed 7.</summary>
    private static (KneeDataset Train, KneeDataset Val, KneeDataset Synthetic, ClassifierConfig Config) SmallVerdict(int epochs) =>
        (Knees([0, 1, 2, 3, 4], perGrade: 8, firstIndex: 0), Knees([0, 1, 2, 3, 4], perGrade: 4, firstIndex: 200), Knees([0, 1, 2, 3, 4], perGrade: 6, firstIndex: 500),
         new ClassifierConfig { ImageSize = 32, Widths = [8, 16, 32], Epochs = epochs, BatchSize = 8, LearningRate = 3e-3, Threads = 2, Seed = 7, Precision = "fp32" });

    [Fact]
    public void SyntheticImagesOfAGradeMissingFromTrainTeachTheClassifierThatGradeAtTheSameBudget()
    {
        using var dir = new TempDirectory();
        var train = Knees([0, 1, 2, 3], perGrade: 24, firstIndex: 0); // no KL4 at all in the real train set
        var val = Knees([0, 1, 2, 3, 4], perGrade: 8, firstIndex: 200);
        var synthetic = Knees([4], perGrade: 40, firstIndex: 500);
        var output = new StringWriter();
        var config = new ClassifierConfig { ImageSize = 32, Widths = [8, 16, 32], Epochs = 20, BatchSize = 16, LearningRate = 3e-3, Threads = 2 };

        var result = AugmentationBenefit.Run(config, train, val, synthetic, perGrade: 30, dir.Path, output);
        log.WriteLine(output.ToString());

        Assert.Equal(20 * (96 / 16), result.Steps); // the real-only run's budget, not one pass over the larger mixed set
        Assert.True(result.Augmented.ValRecall[4] >= 0.5, $"KL4 recall with synthetic KL4 images: {result.Augmented.ValRecall[4]:F2}");
        // augment.json describes this run in figures derived by hand from the inputs: 4 grades × 24 real images, batch 16.
        var written = JsonSerializer.Deserialize<AugmentationReport>(File.ReadAllText(Path.Combine(dir.Path, "augment.json")), ReportJson.Options)!;
        Assert.Equal(96, written.RealTrainImages);
        Assert.Equal(40, written.ValImages);
        Assert.Equal(6, written.StepsPerEpoch);
        Assert.Equal([0, 0, 0, 0, 30], written.SyntheticPerGrade);
        Assert.True(File.Exists(Path.Combine(dir.Path, AugmentationBenefit.AugmentedFile)));
    }

    /// <summary>
    /// Over seeds: each seed's pair is an ordinary augment-benefit run (its own augment.json), and the summary is their
    /// mean, sample standard deviation and paired t-interval, recomputed here from those files by hand.
    /// </summary>
    [Fact]
    public void SeededVerdictSummarisesThePerSeedRunsAndScoresGeneratedOnlyTraining()
    {
        using var dir = new TempDirectory();
        var (train, val, synthetic, config) = SmallVerdict(epochs: 2);
        var output = new StringWriter();
        var report = SeededAugmentationBenefit.Run(config, 3, train, val, synthetic, perGrade: null, dir.Path, output);
        log.WriteLine(output.ToString());

        Assert.Equal(new long[] { 7, 8, 9 }, report.Seeds);
        var perSeed = report.Seeds.Select(s => JsonSerializer.Deserialize<AugmentationReport>(
            File.ReadAllText(Path.Combine(dir.Path, $"seed-{s}", "augment.json")), ReportJson.Options)!).ToArray();
        double[] real = perSeed.Select(r => r.RealOnly.Accuracy).ToArray(), mixed = perSeed.Select(r => r.WithSynthetic.Accuracy).ToArray();
        var accuracy = report.Figures.Single(f => f.Name == "accuracy");
        Assert.Equal(real.Average(), accuracy.RealOnly.Mean, 4);
        Assert.Equal(mixed.Average(), accuracy.WithSynthetic.Mean, 4);
        var d = mixed.Zip(real, (m, r) => m - r).ToArray();
        double sd = Math.Sqrt(d.Sum(x => (x - d.Average()) * (x - d.Average())) / 2);
        Assert.Equal(d.Average() - 4.302653 * sd / Math.Sqrt(3), accuracy.Difference.Low, 3);
        Assert.Equal(4, report.Figures.Count);
        Assert.Equal(3, report.ClassificationAccuracyScore!.Runs);
        Assert.InRange(report.ClassificationAccuracyScore!.Mean, 0, 1);
        Assert.True(File.Exists(Path.Combine(dir.Path, "seed-8", "synthetic-only.kcls")));
        // Each seed's row is that seed's own augment.json, and its CAS the generated-only classifier's file.
        Assert.Equal(report.Seeds, report.PerSeed.Select(r => r.Seed));
        Assert.Equal(mixed, report.PerSeed.Select(r => r.WithSynthetic.Accuracy));
        var cas8 = ClassifierFile.ReadHeader(Path.Combine(dir.Path, "seed-8", "synthetic-only.kcls"));
        Assert.Equal(Math.Round(cas8.ValAccuracy, 4), report.PerSeed[1].GeneratedOnlyAccuracy);
        string markdown = File.ReadAllText(Path.Combine(dir.Path, "augment-seeds.md"));
        var real8 = ClassifierFile.ReadHeader(Path.Combine(dir.Path, "seed-8", AugmentationBenefit.RealOnlyFile));
        Assert.Contains($"| 8 | {real8.ValAccuracy.ToString("F3", CultureInfo.InvariantCulture)}, {real8.ValQuadraticKappa.ToString("F3", CultureInfo.InvariantCulture)}; ", markdown);
    }

    /// <summary>
    /// A verdict stopped by its time limit and continued later reports what it cost in all, not only its last part: the
    /// first invocation trains seed 7's real-only classifier and stops; the second trains the rest. Each classifier's
    /// time is the one its checkpoint recorded when it was trained (read back here), and the whole cannot exceed the two
    /// invocations' measured wall time.
    /// </summary>
    [Fact]
    public void AContinuedVerdictCountsTheTrainingTimeOfEveryInvocation()
    {
        using var dir = new TempDirectory();
        var (train, val, synthetic, config) = SmallVerdict(epochs: 1);
        string Ckpt(long seed, string file) => Path.ChangeExtension(Path.Combine(dir.Path, $"seed-{seed}", file), ".ckpt");

        var wall = System.Diagnostics.Stopwatch.StartNew();
        var stopped = SeededAugmentationBenefit.Run(config, 2, train, val, synthetic, null, dir.Path, new StringWriter(), new ClassifierRunOptions { StopBy = DateTime.UtcNow });
        double firstWall = wall.Elapsed.TotalSeconds;
        Assert.Null(stopped);
        Assert.False(File.Exists(Ckpt(7, AugmentationBenefit.AugmentedFile))); // only the first classifier ran
        double firstClassifier = ClassifierCheckpoint.ReadState(Ckpt(7, AugmentationBenefit.RealOnlyFile)).Seconds;
        Assert.InRange(firstClassifier, 0.001, firstWall + 0.1);

        wall.Restart();
        var report = SeededAugmentationBenefit.Run(config, 2, train, val, synthetic, null, dir.Path, new StringWriter(), new ClassifierRunOptions())!;
        double secondWall = wall.Elapsed.TotalSeconds;

        var seed7 = JsonSerializer.Deserialize<AugmentationReport>(File.ReadAllText(Path.Combine(dir.Path, "seed-7", "augment.json")), ReportJson.Options)!;
        Assert.Equal(firstClassifier + ClassifierCheckpoint.ReadState(Ckpt(7, AugmentationBenefit.AugmentedFile)).Seconds, seed7.TrainingSeconds, 1);
        double all = new[] { 7L, 8L }.Sum(s => new[] { AugmentationBenefit.RealOnlyFile, AugmentationBenefit.AugmentedFile, "synthetic-only.kcls" }
            .Sum(f => ClassifierCheckpoint.ReadState(Ckpt(s, f)).Seconds));
        Assert.Equal(all, report.TrainingSeconds, 1);
        Assert.InRange(report.TrainingSeconds, firstClassifier, firstWall + secondWall + 0.5);
        Assert.InRange(report.Seconds, 0, secondWall + 0.1); // the last invocation's own wall time
        Assert.Contains("min for the 6 classifiers on their own clocks", File.ReadAllText(Path.Combine(dir.Path, "augment-seeds.md")));
    }

    /// <summary>
    /// A second generated set judged against the first verdict's real-only arms: those are adopted, not trained again (a
    /// retrained arm would log its epochs), only the new arm trains; a set without every grade gets no CAS; a baseline
    /// trained with other settings is refused before anything is copied.
    /// </summary>
    [Fact]
    public void BaselineRealOnlyArmsAreAdoptedAndAPartialSetGetsNoClassificationAccuracyScore()
    {
        using var dir = new TempDirectory();
        var (train, val, everyGrade, config) = SmallVerdict(epochs: 2);
        var first = SeededAugmentationBenefit.Run(config, 2, train, val, everyGrade, null, dir.Combine("first"), new StringWriter(), new ClassifierRunOptions())!;

        var output = new StringWriter();
        var minority = Knees([3, 4], perGrade: 6, firstIndex: 600);
        var second = SeededAugmentationBenefit.Run(config, 2, train, val, minority, null, dir.Combine("second"), output, new ClassifierRunOptions(), dir.Combine("first"))!;
        log.WriteLine(output.ToString());

        string text = output.ToString();
        Assert.Equal(2, text.Split("finished earlier").Length - 1);            // both seeds' real-only arms adopted
        Assert.Equal(2 * 2, text.Split('\n').Count(line => line.StartsWith("epoch "))); // 2 seeds × 2 epochs: the new arm only, no CAS
        foreach (long seed in new long[] { 7, 8 })
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Path, "first", $"seed-{seed}", AugmentationBenefit.RealOnlyFile)),
                         File.ReadAllBytes(Path.Combine(dir.Path, "second", $"seed-{seed}", AugmentationBenefit.RealOnlyFile)));
        Assert.Equal([0, 0, 0, 6, 6], second.SyntheticPerGrade);
        Assert.NotNull(first.ClassificationAccuracyScore);
        Assert.Null(second.ClassificationAccuracyScore);
        Assert.False(File.Exists(Path.Combine(dir.Path, "second", "seed-7", "synthetic-only.kcls")));
        Assert.Contains("not measured", File.ReadAllText(Path.Combine(dir.Path, "second", "augment-seeds.md")));
        Assert.Empty(first.AdoptedRealOnly);
        Assert.Equal([7L, 8L], second.AdoptedRealOnly.Keys.Order());
        Assert.Equal(Path.GetFullPath(dir.Combine("first", "seed-8")), second.AdoptedRealOnly[8]);
        // Run again without --baseline: nothing trains, and the report still says where its real-only arms came from.
        var again = SeededAugmentationBenefit.Run(config, 2, train, val, minority, null, dir.Combine("second"), new StringWriter(), new ClassifierRunOptions())!;
        Assert.Equal(2, again.AdoptedRealOnly.Count);
        Assert.Contains($"were adopted from {Path.GetFullPath(dir.Combine("first"))}", File.ReadAllText(Path.Combine(dir.Path, "second", "augment-seeds.md")));
        // A folder that trained its own real-only arm does not claim an adoption when --baseline is added afterwards.
        var own = SeededAugmentationBenefit.Run(config, 2, train, val, everyGrade, null, dir.Combine("first"), new StringWriter(), new ClassifierRunOptions(), dir.Combine("second"))!;
        Assert.Empty(own.AdoptedRealOnly);

        // More seeds than the baseline holds: its seeds are lent, the third trains its real-only arm here.
        output = new StringWriter();
        var grown = SeededAugmentationBenefit.Run(config, 3, train, val, minority, null, dir.Combine("grown"), output, new ClassifierRunOptions(), dir.Combine("first"))!;
        Assert.Equal([7L, 8L], grown.AdoptedRealOnly.Keys.Order());
        Assert.Contains("seed 9 (3/3): not in --baseline", output.ToString());
        Assert.Equal(3 * 2 + 2, output.ToString().Split('\n').Count(line => line.StartsWith("epoch "))); // three new arms + seed 9's real-only arm
        Assert.Equal(3, grown.PerSeed.Count);
        // A baseline holding none of the seeds asked is a mistake, not a request to train everything.
        var none = Assert.Throws<ArgumentException>(() => SeededAugmentationBenefit.Run(config with { Seed = 20 }, 2, train, val, minority, null, dir.Combine("none"),
            new StringWriter(), new ClassifierRunOptions(), dir.Combine("first")));
        Assert.Contains("holds none of seeds 20–21", none.Message);
        Assert.False(Directory.Exists(dir.Combine("none")));

        var refused = Assert.Throws<ArgumentException>(() => SeededAugmentationBenefit.Run(config with { Epochs = 3 }, 2, train, val, minority, null, dir.Combine("third"),
            new StringWriter(), new ClassifierRunOptions(), dir.Combine("first")));
        Assert.Contains(Path.Combine("first", "seed-7", "augment-real-only.ckpt"), refused.Message);
        Assert.Contains("other settings", refused.Message);
        Assert.False(Directory.Exists(dir.Combine("third")));
        // Other val images: refused too, and for every seed before the first one trains.
        refused = Assert.Throws<ArgumentException>(() => SeededAugmentationBenefit.Run(config, 2, train, Knees([0, 1, 2, 3, 4], perGrade: 4, firstIndex: 300), minority, null,
            dir.Combine("fourth"), new StringWriter(), new ClassifierRunOptions(), dir.Combine("first")));
        Assert.Contains("other train or val images", refused.Message);
        Assert.False(Directory.Exists(dir.Combine("fourth")));
        // One seed: refused before its --out exists, as the seeded verdict is.
        refused = Assert.Throws<ArgumentException>(() => AugmentationBenefit.Run(config with { Epochs = 3 }, train, val, minority, null, dir.Combine("fifth"),
            new StringWriter(), new ClassifierRunOptions(), dir.Combine("first", "seed-7")));
        Assert.Contains("other settings", refused.Message);
        Assert.False(Directory.Exists(dir.Combine("fifth")));
    }

    /// <summary>generate --grades 3,4 writes only those grade folders; augment-benefit adds what is there (evaluate, which scores every grade, still refuses such a set).</summary>
    [Fact]
    public void CliTakesAGeneratedSetOfSomeGradesOnly()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32);
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32, split: "val", firstIndex: 10);
        SyntheticKnees.WriteDataset(dir.Combine("gen"), perGrade: 3, side: 32, split: "", firstIndex: 30);
        foreach (string grade in new[] { "0", "1", "2" }) Directory.Delete(dir.Combine("gen", grade), recursive: true);

        var (code, _, err) = InProcessCli.Train("augment-benefit", "--data", dir.Combine("data"), "--generated", dir.Combine("gen"), "--out", dir.Combine("r"), "--size", "32",
            "--epochs", "1", "--batch", "4", "--precision", "fp32");
        Assert.True(code == 0, err);
        var written = JsonSerializer.Deserialize<AugmentationReport>(File.ReadAllText(dir.Combine("r", "augment.json")), ReportJson.Options)!;
        Assert.Equal([0, 0, 0, 3, 3], written.SyntheticPerGrade);
    }

    /// <summary>A user with a smaller data set: half of each grade's real train images (3 of 6, 2 of 3 rounded up from
    /// 1.5) train the real-only arm, and the report counts those, not the folder's.</summary>
    [Fact]
    public void CliJudgesTheBenefitForAShareOfTheRealTrainImages()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 6, side: 32);
        foreach (var extra in Directory.GetFiles(dir.Combine("data", "train", "4")).Order().Skip(3)) File.Delete(extra);
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32, split: "val", firstIndex: 10);
        SyntheticKnees.WriteDataset(dir.Combine("gen"), perGrade: 2, side: 32, split: "", firstIndex: 30);

        var (code, output, err) = InProcessCli.Train("augment-benefit", "--data", dir.Combine("data"), "--generated", dir.Combine("gen"), "--out", dir.Combine("r"), "--size", "32",
            "--epochs", "1", "--batch", "4", "--precision", "fp32", "--real-fraction", "0.5");
        Assert.True(code == 0, err);
        Assert.Contains("real train: 14 images kept (0.5 of each grade: 3 / 3 / 3 / 3 / 2)", output);
        var written = JsonSerializer.Deserialize<AugmentationReport>(File.ReadAllText(dir.Combine("r", "augment.json")), ReportJson.Options)!;
        Assert.Equal(14, written.RealTrainImages);
        Assert.Equal([3, 3, 3, 3, 2], written.RealPerGrade); // half of 6 per grade, and half of KL4's 3 rounded up
        Assert.Contains("| real train (14: 3 / 3 / 3 / 3 / 2) |", File.ReadAllText(dir.Combine("r", "augment.md")));
        Assert.Equal(3, written.StepsPerEpoch); // 14 images in whole batches of 4
    }

    [Fact]
    public void CliRejectsAnEmptyGeneratedFolderAndABadCapInOneLine()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32);
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32, split: "val", firstIndex: 10);
        Directory.CreateDirectory(dir.Combine("empty", "0"));
        SyntheticKnees.WriteDataset(dir.Combine("gen"), perGrade: 2, side: 32, split: "", firstIndex: 30);

        var (code, _, err) = InProcessCli.Train("augment-benefit", "--data", dir.Combine("data"), "--generated", dir.Combine("empty"), "--out", dir.Combine("r1"), "--size", "32");
        Assert.Equal(2, code);
        Assert.Contains("empty", err);
        Assert.Single(err.Trim().Split('\n'));

        (code, _, err) = InProcessCli.Train("augment-benefit", "--data", dir.Combine("data"), "--generated", dir.Combine("gen"), "--out", dir.Combine("r2"), "--size", "32", "--per-grade", "0");
        Assert.Equal(2, code);
        Assert.Contains("--per-grade", err);
        Assert.False(Directory.Exists(dir.Combine("r2")));

        (code, _, err) = InProcessCli.Train("augment-benefit", "--data", dir.Combine("data"), "--generated", dir.Combine("gen"), "--out", dir.Combine("r3"), "--size", "32", "--precision", "fp16");
        Assert.Equal(2, code);
        Assert.Contains("'fp16' is not one of fp32, bf16", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.Combine("r3")));

        foreach (var fraction in new[] { "0", "1.5", "-0.2" })
        {
            (code, _, err) = InProcessCli.Train("augment-benefit", "--data", dir.Combine("data"), "--generated", dir.Combine("gen"), "--out", dir.Combine("r4"), "--size", "32", "--real-fraction", fraction);
            Assert.Equal(2, code);
            Assert.Contains($"--real-fraction must be in (0, 1], got {fraction}", err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.False(Directory.Exists(dir.Combine("r4")));
        }

        (code, _, err) = InProcessCli.Train("augment-benefit", "--data", dir.Combine("data"), "--generated", dir.Combine("gen"), "--out", dir.Combine("r5"), "--size", "32",
            "--baseline", dir.Combine("no-such-verdict"));
        Assert.Equal(2, code);
        Assert.Contains("no-such-verdict: --baseline folder not found", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.Combine("r5")));

        // The asked precision reaches every classifier of the verdict (both arms say so).
        (code, var stdout, err) = InProcessCli.Train("augment-benefit", "--data", dir.Combine("data"), "--generated", dir.Combine("gen"), "--out", dir.Combine("r4"), "--size", "32",
            "--epochs", "1", "--batch", "4", "--precision", "fp32");
        Assert.True(code == 0, err);
        Assert.Equal(2, stdout.Split("precision: fp32 (requested)").Length - 1);
    }

    private const double TQuantile975OneDegree = 12.7062047;

    /// <summary>
    /// augment-compare: two generated sets' verdicts against the same real-only classifiers, paired by seed. The paired
    /// statistics are recomputed here from the classifier files themselves with the published t quantile for one degree
    /// of freedom (t₀.₉₇₅,₁ = 12.7062), and the refusals name the file that breaks the pairing.
    /// </summary>
    [Fact]
    public void TwoSetsAgainstTheSameRealOnlyArmsPairBySeedAndAMismatchedArmIsRefused()
    {
        using var dir = new TempDirectory();
        var (train, val, everyGrade, config) = SmallVerdict(epochs: 2);
        SeededAugmentationBenefit.Run(config, 2, train, val, everyGrade, null, dir.Combine("first"), new StringWriter(), new ClassifierRunOptions());
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
        Check(AugmentationComparison.CasFigure, h => h.ValAccuracy, AugmentationBenefit.GeneratedOnlyFile);
        // The real-only column is the one classifier both verdicts share.
        Assert.Equal((Header("second", 7, AugmentationBenefit.RealOnlyFile).ValAccuracy + Header("second", 8, AugmentationBenefit.RealOnlyFile).ValAccuracy) / 2,
            report.Figures[0].RealOnly.Mean, 10);
        var written = JsonSerializer.Deserialize<AugmentationComparisonReport>(File.ReadAllText(dir.Combine("cmp", "augment-compare.json")), ReportJson.Options)!;
        Assert.Equal(report.Figures.Count, written.Figures.Count);
        Assert.Contains("| accuracy |", File.ReadAllText(dir.Combine("cmp", "augment-compare.md")));

        // A generated-only classifier still training (its checkpoint short of its epochs, here gone) is no CAS yet.
        CopyFolder(dir.Combine("second"), dir.Combine("partial"));
        File.Delete(Path.ChangeExtension(dir.Combine("partial", "seed-8", AugmentationBenefit.GeneratedOnlyFile), ".ckpt"));
        var partial = AugmentationComparison.Run(dir.Combine("first"), dir.Combine("partial"), dir.Combine("cmp1"), new StringWriter());
        Assert.DoesNotContain(partial.Figures, f => f.Name == AugmentationComparison.CasFigure);
        Assert.Equal(4, partial.Figures.Count);
        Assert.Contains("CAS not compared", File.ReadAllText(dir.Combine("cmp1", "augment-compare.md")));

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
