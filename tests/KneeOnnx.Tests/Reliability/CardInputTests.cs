using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// card reads JSON written by other verbs (bench.json, report.json, a run's config.json): a file of the wrong shape
/// ([] or {} or wrong types) is one line naming it, and the model card is not written.
/// </summary>
public class CardInputTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    public static TheoryData<string, string, string> BadFiles() => new()
    {
        { "--bench", "bench.json", "[]" },
        { "--bench", "bench.json", "{}" },
        { "--bench", "bench.json", "null" },
        { "--bench", "bench.json", """{"modelSha256": 5, "machine": [], "sampling": {}}""" },
        { "--bench", "bench.json", "not json at all" },
        { "--evaluation", "report.json", "[]" },
        { "--evaluation", "report.json", "{}" },
        { "--evaluation", "report.json", """{"fidRn18": "high"}""" },
        { "--evaluation", "report.json", "" },
        { "--run", "config.json", "[]" },
        { "--run", "config.json", "{}" },
        { "--run", "config.json", """{"train": {"LabelDropout": "lots"}}""" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void WrongShapedJsonInputsAreNamedAndNoCardIsWritten(string option, string fileName, string content)
    {
        using var dir = new TempDirectory();
        string onnx = dir.Combine("m.onnx");
        File.Copy(model.Path, onnx);
        string folder = dir.Combine("in");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, fileName), content);
        if (option == "--run") File.WriteAllText(Path.Combine(folder, "loss.csv"), "step,loss,lr,imagesPerSecond,elapsedSeconds\n1,0.5,0.001,1,1\n");

        var result = InProcessCli.Train("card", "--model", onnx, option, folder);

        Refusal.Check(result, option == "--run" ? folder : Path.Combine(folder, fileName));
        Assert.False(File.Exists(dir.Combine("m.md")), "a card was written");
    }
}
