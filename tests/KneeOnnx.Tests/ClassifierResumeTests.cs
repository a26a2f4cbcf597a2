using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Data;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

/// <summary>
/// Classifier runs that outlast a session: stopped after an epoch with their state written, continued later, and ending
/// exactly where an uninterrupted run ends; a checkpoint of other settings or images, or a damaged one, is refused.
/// </summary>
public class ClassifierResumeTests(ITestOutputHelper log)
{
    private static readonly ClassifierConfig Config = new() { ImageSize = 32, Widths = [8, 16, 32], Epochs = 3, BatchSize = 8, LearningRate = 3e-3, Threads = 2 };

    private static KneeDataset Knees(int perGrade, int firstIndex)
    {
        var images = new List<float[]>();
        var labels = new List<int>();
        for (int g = 0; g < 5; g++)
            for (int i = firstIndex; i < firstIndex + perGrade; i++)
            {
                images.Add(SyntheticKnees.Pixels(g, i, 32).Select(KneeOnnx.Imaging.PixelScale.ToModel).ToArray());
                labels.Add(g);
            }
        return KneeDataset.FromMemory(32, images.ToArray(), labels.ToArray());
    }

    private static float[][] Weights(string file)
    {
        var (_, net) = ClassifierFile.Load(file);
        using (net)
            return net.parameters().Select(p => p.data<float>().ToArray()).ToArray();
    }

    [Fact]
    public void AStoppedAndResumedRunEndsWithTheWeightsOfAnUninterruptedOne()
    {
        using var dir = new TempDirectory();
        var train = Knees(8, 0);
        var val = Knees(3, 300);
        var output = new StringWriter();
        var straight = ClassifierTrainer.Run(Config, train, val, dir.Combine("straight.kcls"), output, new ClassifierRunOptions());
        Assert.True(straight.Completed);

        // A deadline already passed: the run stops after its first epoch, its state written.
        string checkpoint = dir.Combine("run.ckpt");
        var first = ClassifierTrainer.Run(Config, train, val, dir.Combine("resumed.kcls"), output,
            new ClassifierRunOptions { Checkpoint = checkpoint, StopBy = DateTime.UtcNow });
        Assert.False(first.Completed);
        Assert.Equal(1, first.EpochsDone);
        Assert.Equal(1, ClassifierCheckpoint.ReadState(checkpoint).EpochsDone);

        var rest = ClassifierTrainer.Run(Config, train, val, dir.Combine("resumed.kcls"), output, new ClassifierRunOptions { Checkpoint = checkpoint, Resume = true });
        log.WriteLine(output.ToString());
        Assert.True(rest.Completed);
        Assert.Contains("resumed from", output.ToString());
        Assert.Equal(straight.Best!.Epoch, rest.Best!.Epoch);
        Assert.Equal(straight.Best.ValQuadraticKappa, rest.Best.ValQuadraticKappa);
        var a = Weights(dir.Combine("straight.kcls"));
        var b = Weights(dir.Combine("resumed.kcls"));
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i]);

        // Finished: asked again, it reports without training.
        var again = new StringWriter();
        var done = ClassifierTrainer.Run(Config, train, val, dir.Combine("resumed.kcls"), again, new ClassifierRunOptions { Checkpoint = checkpoint, Resume = true });
        Assert.True(done.Completed);
        Assert.Contains("finished earlier", again.ToString());
        Assert.DoesNotContain("epoch 1/3", again.ToString());
    }

    [Fact]
    public void ACheckpointOfOtherSettingsOrImagesOrDamagedIsRefused()
    {
        using var dir = new TempDirectory();
        var train = Knees(6, 0);
        var val = Knees(2, 300);
        string checkpoint = dir.Combine("run.ckpt"), file = dir.Combine("c.kcls");
        ClassifierTrainer.Run(Config, train, val, file, TextWriter.Null, new ClassifierRunOptions { Checkpoint = checkpoint, StopBy = DateTime.UtcNow });

        var fresh = Assert.Throws<ArgumentException>(() => ClassifierTrainer.Run(Config, train, val, file, TextWriter.Null, new ClassifierRunOptions { Checkpoint = checkpoint }));
        Assert.Contains("--resume", fresh.Message);
        var settings = Assert.Throws<ArgumentException>(() =>
            ClassifierTrainer.Run(Config with { LearningRate = 1e-3 }, train, val, file, TextWriter.Null, new ClassifierRunOptions { Checkpoint = checkpoint, Resume = true }));
        Assert.Contains("other settings", settings.Message);
        var images = Assert.Throws<ArgumentException>(() =>
            ClassifierTrainer.Run(Config, Knees(6, 50), val, file, TextWriter.Null, new ClassifierRunOptions { Checkpoint = checkpoint, Resume = true }));
        Assert.Contains("images differ", images.Message);
        // Threads change the speed, not the run: accepted.
        var threads = ClassifierTrainer.Run(Config with { Threads = 0 }, train, val, file, TextWriter.Null, new ClassifierRunOptions { Checkpoint = checkpoint, Resume = true });
        Assert.True(threads.Completed);

        byte[] bytes = File.ReadAllBytes(checkpoint);
        File.WriteAllBytes(checkpoint, bytes[..(bytes.Length / 2)]);
        var damaged = Assert.Throws<InvalidDataException>(() => ClassifierTrainer.Run(Config, train, val, file, TextWriter.Null, new ClassifierRunOptions { Checkpoint = checkpoint, Resume = true }));
        Assert.Contains(checkpoint, damaged.Message);
    }

    /// <summary>
    /// A checkpoint written before a setting existed (its recorded settings lack the key) resumes when nothing that it
    /// did record has changed; one that recorded another value, or nothing readable, does not.
    /// </summary>
    [Fact]
    public void SettingsRecordedBeforeANewOptionExistedStillMatch()
    {
        var config = new ClassifierConfig { Epochs = 3, LearningRate = 1e-3 };
        var older = System.Text.Json.Nodes.JsonNode.Parse(ClassifierCheckpoint.ConfigKey(config))!.AsObject();
        Assert.True(older.Remove(nameof(ClassifierConfig.MirrorAveraging)));
        Assert.True(ClassifierCheckpoint.SameSettings(older.ToJsonString(), config));
        Assert.False(ClassifierCheckpoint.SameSettings(older.ToJsonString(), config with { MirrorAveraging = true }));
        older["LearningRate"] = 2e-3;
        Assert.False(ClassifierCheckpoint.SameSettings(older.ToJsonString(), config));
        Assert.False(ClassifierCheckpoint.SameSettings("not json", config));
    }

    [Fact]
    public void AnAugmentationVerdictStoppedMidwayContinuesToTheSameFigures()
    {
        using var dir = new TempDirectory();
        var train = Knees(6, 0);
        var val = Knees(2, 300);
        var synthetic = Knees(4, 700);
        var straight = AugmentationBenefit.Run(Config, train, val, synthetic, null, dir.Combine("straight"), TextWriter.Null);

        var output = new StringWriter();
        var stopped = AugmentationBenefit.Run(Config, train, val, synthetic, null, dir.Combine("resumed"), output, new ClassifierRunOptions { StopBy = DateTime.UtcNow });
        Assert.Null(stopped);
        Assert.True(File.Exists(dir.Combine("resumed", Path.ChangeExtension(AugmentationBenefit.RealOnlyFile, ".ckpt"))));
        Assert.False(File.Exists(dir.Combine("resumed", "augment.json")));
        var resumed = AugmentationBenefit.Run(Config, train, val, synthetic, null, dir.Combine("resumed"), output, new ClassifierRunOptions());
        log.WriteLine(output.ToString());
        Assert.NotNull(resumed);
        Assert.Equal(straight.RealOnly.ValQuadraticKappa, resumed.RealOnly.ValQuadraticKappa);
        Assert.Equal(straight.Augmented.ValQuadraticKappa, resumed.Augmented.ValQuadraticKappa);
        Assert.Equal(straight.Augmented.ValRecall, resumed.Augmented.ValRecall);
        Assert.Equal(Weights(dir.Combine("straight", AugmentationBenefit.AugmentedFile)), Weights(dir.Combine("resumed", AugmentationBenefit.AugmentedFile)));
    }

    [Fact]
    public void TheCliNeedsACheckpointToResumeAndKeepsItApartFromTheClassifier()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 3, side: 32);
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32, split: "val", firstIndex: 50);
        string[] common = ["train-classifier", "--data", dir.Combine("data"), "--size", "32", "--epochs", "2", "--batch", "4", "--threads", "2"];
        var nothing = InProcessCli.Train([.. common, "--out", dir.Combine("a.kcls"), "--resume"]);
        Assert.NotEqual(0, nothing.Code);
        Assert.Contains(dir.Combine("a.ckpt"), nothing.Err);
        Assert.Contains("nothing to resume", nothing.Err);
        var same = InProcessCli.Train([.. common, "--out", dir.Combine("a.kcls"), "--checkpoint", dir.Combine("a.kcls")]);
        Assert.NotEqual(0, same.Code);
        Assert.Contains("--checkpoint is the --out file", same.Err);

        var whole = InProcessCli.Train([.. common, "--out", dir.Combine("a.kcls"), "--max-minutes", "60"]);
        Assert.True(whole.Code == 0, whole.Err);
        Assert.True(File.Exists(dir.Combine("a.ckpt")));
        // The card beside it: the confusion matrix holds every val image once, in its own grade's row, and its diagonal
        // is the accuracy the file records; the command spells out the settings.
        string card = File.ReadAllText(dir.Combine("a.md"));
        var header = ClassifierFile.ReadHeader(dir.Combine("a.kcls"));
        var rows = card.Split('\n').SkipWhile(l => !l.StartsWith("| true \\ predicted")).Skip(2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        Assert.Equal(KlGrades.Names, rows.Select(r => r[0]).ToArray());
        var counts = rows.Select(r => r.Skip(1).Select(int.Parse).ToArray()).ToArray();
        Assert.All(counts, row => Assert.Equal(2, row.Sum()));
        Assert.Equal(header.ValAccuracy, Enumerable.Range(0, 5).Sum(g => counts[g][g]) / 10.0, 12);
        Assert.Contains("--size 32 --epochs 2 --batch 4", card);
        var again = InProcessCli.Train([.. common, "--out", dir.Combine("a.kcls"), "--resume"]);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("finished earlier", again.Out);
    }
}
