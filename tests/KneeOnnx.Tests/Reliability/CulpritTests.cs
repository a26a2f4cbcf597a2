using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Classifier;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// Refusals that used to name the wrong thing, or came after the work: each names the option as the user typed it and
/// what would work, before anything is written. The shipped classifiers serve as real grade and side classifier files.
/// </summary>
public class CulpritTests
{
    private static readonly string Models = Path.Combine(RepositoryRoot(), "models");
    private static string GradeClassifier => Path.Combine(Models, "kl-reference-64.kcls");
    private static string SideClassifier => Path.Combine(Models, "side-reference-64.kcls");

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KneeOnnx.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    [Fact]
    public void SidesWithoutGradeConditioningBlamesTheConditioning()
    {
        using var dir = new TempDirectory();
        var result = InProcessCli.Train("train", "--data", dir.Path, "--out", dir.Combine("run"), "--preset", "tiny", "--sides", "--cond", "none");
        Refusal.Check(result, "--cond must be add or concat with --sides (the side is a condition beside the grade), got 'none'");
        Assert.False(Directory.Exists(dir.Combine("run")));
    }

    [Fact]
    public void SidesWithoutLabelDropoutBlamesTheDropoutValue()
    {
        using var dir = new TempDirectory();
        var result = InProcessCli.Train("train", "--data", dir.Path, "--out", dir.Combine("run"), "--preset", "tiny", "--sides", "--label-dropout", "0");
        Refusal.Check(result, "--label-dropout must be > 0 with --sides");
        Assert.DoesNotContain("True", result.Err);
    }

    [Fact]
    public void EvaluateRefusesASideClassifierAsGradeClassifierBeforeAnyWork()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine("data"), 2, side: 32);
        SyntheticKnees.WriteDataset(dir.Combine("data"), 2, side: 32, split: "val", firstIndex: 50);
        SyntheticKnees.WriteDataset(dir.Combine("gen"), 2, side: 32, split: "", firstIndex: 90);
        var result = InProcessCli.Train("evaluate", "--generated", dir.Combine("gen"), "--data", dir.Combine("data"), "--out", dir.Combine("report"),
            "--classifier", SideClassifier);
        Refusal.Check(result, "--classifier needs a grade classifier, but this one predicts the knee side");
        var swapped = InProcessCli.Train("evaluate", "--generated", dir.Combine("gen"), "--data", dir.Combine("data"), "--out", dir.Combine("report"),
            "--side-classifier", GradeClassifier);
        Refusal.Check(swapped, "--side-classifier needs a side classifier");
        Assert.Empty(Refusal.Tree(dir.Combine("report")));
    }

    [Fact]
    public void TrainClassifierDoesNotReplaceAClassifierOfAnotherTarget()
    {
        using var dir = new TempDirectory();
        string target = dir.Combine("grade.kcls");
        File.Copy(GradeClassifier, target);
        byte[] before = File.ReadAllBytes(target);
        var result = InProcessCli.Train("train-classifier", "--data", dir.Combine("data"), "--out", target, "--target", "side");
        Refusal.Check(result, "--out exists and is a grade classifier; --target side would replace it");
        Assert.Equal(before, File.ReadAllBytes(target));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100000)]
    public void AClassifierClaimingAnImpossibleInputSizeIsOneLine(int size)
    {
        using var dir = new TempDirectory();
        byte[] original = File.ReadAllBytes(GradeClassifier);
        int length = BitConverter.ToInt32(original, 8);
        var header = System.Text.Json.Nodes.JsonNode.Parse(original.AsSpan(12, length))!;
        header["ImageSize"] = size;
        byte[] json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        string file = dir.Combine("odd.kcls");
        File.WriteAllBytes(file, [.. original[..8], .. BitConverter.GetBytes(json.Length), .. json, .. original[(12 + length)..]]);
        SyntheticKnees.WriteDataset(dir.Combine("data"), 2, side: 32);
        SyntheticKnees.WriteDataset(dir.Combine("data"), 2, side: 32, split: "val", firstIndex: 50);
        SyntheticKnees.WriteDataset(dir.Combine("gen"), 2, side: 32, split: "", firstIndex: 90);
        var result = InProcessCli.Train("evaluate", "--generated", dir.Combine("gen"), "--data", dir.Combine("data"), "--out", dir.Combine("report"), "--classifier", file);
        Refusal.Check(result, $"classifier input size {size} is outside 16..512");
    }
}
