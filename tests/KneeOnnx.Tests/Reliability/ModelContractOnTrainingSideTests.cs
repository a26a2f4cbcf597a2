using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// train --init-from and card --model hold a model to the contract generate enforces: what inference would refuse
/// cannot start a training run or a card (it used to, with sides ["R","L"], a 64² claim on a 32² network, or a side
/// input without side metadata).
/// </summary>
public class ModelContractOnTrainingSideTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    public static TheoryData<string, string, string> Variants() => new()
    {
        { "image-size.onnx", ModelContract.Keys.ImageSize, "64" },
        { "null-grade.onnx", ModelContract.Keys.NullGrade, "3" },
        { "sides.onnx", ModelContract.Keys.Sides, "[\"R\",\"L\"]" },
        { "beta.onnx", ModelContract.Keys.BetaEnd, "2" },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void InitFromAndCardRefuseWhatGenerateRefuses(string name, string key, string value)
    {
        string file = model.WriteVariant(name, p => TinyOnnxModel.SetMeta(p, key, value));
        var generate = InProcessCli.Generate("info", "--model", file);
        Assert.Equal(2, generate.Code); // the inference side's own verdict on the same file
        using var dir = new TempDirectory();
        var init = InProcessCli.Train("train", "--data", dir.Combine("data"), "--init-from", file, "--out", dir.Combine("run"));
        Refusal.Check(init, file);
        Assert.False(Directory.Exists(dir.Combine("run")));
        var card = InProcessCli.Train("card", "--model", file);
        Refusal.Check(card, file);
    }

    /// <summary>card --model A --run B used to mix two runs' figures: a run on other data did not make the model.</summary>
    [Fact]
    public void CardRefusesARunThatDidNotMakeTheModel()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 1, side: 32);
        Assert.Equal(0, InProcessCli.Train("train", "--data", data, "--preset", "tiny", "--batch", "2", "--steps", "1", "--out", dir.Combine("other"), "--threads", "1").Code);
        string copy = dir.Combine("m.onnx");
        File.Copy(model.Path, copy);
        var result = InProcessCli.Train("card", "--model", copy, "--run", dir.Combine("other"));
        Refusal.Check(result, "--run trained on other data");
        Assert.False(File.Exists(dir.Combine("m.md")));
    }
}
