using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// A path option given as "" used to surface .NET's "The path is empty" (naming no option), and a NUL character an
/// exception from deep in System.IO; both are refused by option name in every verb before it runs.
/// </summary>
public class EmptyOptionTests
{
    /// <summary>Each verb with the path option whose value is replaced; {0} is the scratch folder, {v} the hostile value.</summary>
    private static readonly Dictionary<string, (string Cli, string Option, string[] Args)> Verbs = new()
    {
        ["train"] = ("train", "--out", ["train", "--data", "{0}", "--out", "{v}"]),
        ["train --config"] = ("train", "--config", ["train", "--data", "{0}", "--config", "{v}", "--out", "{0}/run"]),
        ["sample"] = ("train", "--checkpoint", ["sample", "--checkpoint", "{v}", "--out", "{0}/o"]),
        ["export"] = ("train", "--out", ["export", "--checkpoint", "{0}/c.ckpt", "--out", "{v}"]),
        ["evaluate"] = ("train", "--real", ["evaluate", "--generated", "{0}/g", "--real", "{v}", "--train", "{0}/t", "--out", "{0}/r"]),
        ["train-classifier"] = ("train", "--data", ["train-classifier", "--data", "{v}", "--out", "{0}/c.kcls"]),
        ["augment-benefit"] = ("train", "--generated", ["augment-benefit", "--data", "{0}", "--generated", "{v}", "--out", "{0}/o"]),
        ["bench"] = ("train", "--out", ["bench", "--out", "{v}"]),
        ["card"] = ("train", "--model", ["card", "--model", "{v}"]),
        ["generate"] = ("gen", "--out", ["generate", "--model", "{0}/m.onnx", "--out", "{v}"]),
        ["grid"] = ("gen", "--model", ["grid", "--model", "{v}", "--out", "{0}/g.png"]),
        ["info"] = ("gen", "--model", ["info", "--model", "{v}"]),
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var verb in Verbs.Keys)
        {
            data.Add(verb, "");
            data.Add(verb, "a\0b");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EmptyAndNulPathsAreRefusedByOptionName(string verb, string value)
    {
        using var dir = new TempDirectory();
        var (cli, option, template) = Verbs[verb];
        string[] args = [.. template.Select(a => a == "{v}" ? value : a.Replace("{0}", dir.Path))];
        var result = cli == "train" ? InProcessCli.Train(args) : InProcessCli.Generate(args);
        Refusal.Check(result, value == "" ? $"{option} must not be empty" : $"{option} must not contain a NUL character");
        Assert.Empty(Refusal.Tree(dir.Path));
    }
}
