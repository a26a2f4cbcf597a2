using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Evaluation;

namespace KneeOnnx.Tests;

/// <summary>A side classifier trained once on synthetic sided knees (the marker of <see cref="SyntheticKnees.SidedPixels"/>).</summary>
public sealed class SyntheticSideClassifier : IDisposable
{
    private readonly TempDirectory _dir = new();

    public string Data { get; }
    public string File { get; }
    public string TrainLog { get; }

    public SyntheticSideClassifier()
    {
        Data = SyntheticKnees.WriteSidedDataset(_dir.Combine("data"), perGrade: 24, side: 32);
        SyntheticKnees.WriteSidedDataset(Data, perGrade: 6, side: 32, split: "val", firstIndex: 100);
        File = _dir.Combine("side.kcls");
        var (code, stdout, err) = InProcessCli.Train("train-classifier", "--target", "side", "--data", Data, "--out", File, "--size", "32", "--epochs", "12", "--batch", "16", "--threads", "2");
        if (code != 0) throw new InvalidOperationException($"train-classifier --target side failed: {err}");
        TrainLog = stdout;
    }

    public string Combine(params string[] parts) => _dir.Combine(parts);

    public void Dispose() => _dir.Dispose();
}

public class SideFidelityTests(SyntheticSideClassifier classifier) : IClassFixture<SyntheticSideClassifier>
{
    /// <summary>Copies the val images into a generated-set layout, named as generate names them with the given side label.</summary>
    private string GeneratedSet(string name, Func<string, string> label)
    {
        string root = classifier.Combine(name);
        foreach (string file in Directory.GetFiles(Path.Combine(classifier.Data, "val"), "*.png", SearchOption.AllDirectories))
        {
            string grade = Path.GetFileName(Path.GetDirectoryName(file)!);
            string side = KneeSides.Label(KneeSides.FromFileName(file));
            string target = Path.Combine(root, grade, $"kl{grade}_{label(side)}_ddpm50_s1_{Path.GetFileNameWithoutExtension(file)[..7]}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
        return root;
    }

    [Fact]
    public void TheSideClassifierLearnsTheMarkerAndRecordsItsTarget()
    {
        Assert.Contains("target side", classifier.TrainLog);
        var (header, net) = ClassifierFile.Load(classifier.File);
        net.Dispose();
        Assert.Equal(ClassifierTarget.Side, header.Target);
        Assert.Equal(2, header.ClassCount);
        Assert.True(header.ValAccuracy >= 0.9, $"val accuracy {header.ValAccuracy} on a marker a flip moves:\n{classifier.TrainLog}");
    }

    [Fact]
    public void ImagesOfTheAskedSideScoreHighAndSwappedOnesLow()
    {
        string right = GeneratedSet("as-asked", side => side);
        string swapped = GeneratedSet("swapped", side => side == "L" ? "R" : "L");
        string real = Path.Combine(classifier.Data, "val");
        var asked = SideFidelityMeasure.Run(classifier.File, right, real, null, null, TextWriter.Null);
        var wrong = SideFidelityMeasure.Run(classifier.File, swapped, real, null, null, TextWriter.Null);
        Assert.Equal(30, asked.Real);
        Assert.Equal(30, asked.GeneratedWithSide);
        Assert.Equal(0, asked.GeneratedWithoutSide);
        Assert.True(asked.RealAccuracy >= 0.9, $"real accuracy {asked.RealAccuracy}");
        // The same pixels as the real val images: the generated score must equal the real one, and the ratio 1.
        Assert.Equal(asked.RealAccuracy, asked.Generated);
        Assert.Equal(1.0, asked.Ratio);
        Assert.Equal(1.0 - asked.RealAccuracy, wrong.Generated!.Value, 6);
    }

    [Fact]
    public void ImagesWithoutASideReportTheShareThatLooksLeft()
    {
        string any = GeneratedSet("any", _ => "any");
        var result = SideFidelityMeasure.Run(classifier.File, any, Path.Combine(classifier.Data, "val"), null, null, TextWriter.Null);
        Assert.Null(result.Generated);
        Assert.Equal(30, result.GeneratedWithoutSide);
        // Val indexes 100..105 per grade: three left and three right knees each, so half look left when the classifier is right.
        Assert.InRange(result.AnySideFractionLeft!.Value, 0.5 - (1 - result.RealAccuracy), 0.5 + (1 - result.RealAccuracy));
    }

    [Fact]
    public void AGradeClassifierIsNotASideClassifier()
    {
        var (header, net) = ClassifierFile.Load(Path.Combine(ShippedModelTests.ModelsFolder(), "kl-reference-64.kcls"));
        net.Dispose();
        Assert.Equal(ClassifierTarget.Grade, header.Target);
        var e = Assert.Throws<ArgumentException>(() => SideFidelityMeasure.Run(Path.Combine(ShippedModelTests.ModelsFolder(), "kl-reference-64.kcls"),
            GeneratedSet("g", s => s), Path.Combine(classifier.Data, "val"), null, null, TextWriter.Null));
        Assert.Contains("--target side", e.Message);
    }
}
