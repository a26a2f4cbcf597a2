using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Model;

namespace KneeOnnx.Tests;

/// <summary>
/// A model may name the classifier-free guidance scale measured best for it (kneeonnx.default_guidance): every verb
/// uses it when the user gives no --guidance, an asked scale always wins, and the metadata is checked like the rest.
/// </summary>
public class ModelDefaultGuidanceTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private string WithGuidance(string value, bool nullGrade = true) => model.WriteVariant($"guidance-{value}-{nullGrade}.onnx", m =>
    {
        TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultGuidance, value);
        if (!nullGrade) TinyOnnxModel.SetMeta(m, ModelContract.Keys.NullGrade, "-1");
    });

    private static Dictionary<string, byte[]> Generate(string modelPath, string outDir, params string[] extra)
    {
        var (code, _, err) = InProcessCli.Generate(["generate", "--model", modelPath, "--provider", "cpu", "--sampler", "ddim", "--steps", "4", "--seed", "3",
            "--grades", "2", "--per-grade", "2", "--out", outDir, .. extra]);
        Assert.True(code == 0, err);
        return Directory.GetFiles(outDir, "*.png", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(outDir, f), File.ReadAllBytes);
    }

    private static string[] GuidanceColumn(string outDir)
    {
        var lines = File.ReadAllLines(Path.Combine(outDir, "manifest.csv"));
        int column = Array.IndexOf(lines[0].Split(','), "guidance");
        return lines.Skip(1).Select(l => l.Split(',')[column]).Distinct().ToArray();
    }

    [Fact]
    public void GenerateUsesTheModelsOwnScaleUnlessTheUserGivesOne()
    {
        using var dir = new TempDirectory();
        string path = WithGuidance("2.5");
        var own = Generate(path, dir.Combine("own"));
        var asked = Generate(path, dir.Combine("asked"), "--guidance", "2.5");
        var plain = Generate(path, dir.Combine("plain"), "--guidance", "1");
        Assert.Equal(2, own.Count);
        Assert.Equal(asked, own); // the same request, spelt out: the same file names and bytes
        Assert.All(own.Keys, name => Assert.Contains("_w2.5_", name));
        Assert.Equal(["2.5"], GuidanceColumn(dir.Combine("own")));
        Assert.Equal(["1"], GuidanceColumn(dir.Combine("plain")));
        Assert.All(plain.Keys, name => Assert.DoesNotContain("_w", name));
        Assert.NotEqual(own.Values.First(), plain.Values.First());
        // A model without the key stays unguided.
        Generate(model.Path, dir.Combine("base"));
        Assert.Equal(["1"], GuidanceColumn(dir.Combine("base")));
    }

    [Fact]
    public void InfoSaysWhichScaleTheModelUses()
    {
        var (code, stdout, err) = InProcessCli.Generate("info", "--model", WithGuidance("3"));
        Assert.True(code == 0, err);
        Assert.Contains("default guidance 3 (the model's own", stdout);
    }

    [Theory]
    [InlineData("strong", true, "'kneeonnx.default_guidance' = 'strong' is not a guidance scale in 0..50")]
    [InlineData("-1", true, "is not a guidance scale in 0..50")]
    [InlineData("NaN", true, "is not a guidance scale in 0..50")]
    [InlineData("51", true, "is not a guidance scale in 0..50")]
    [InlineData("2", false, "on a model without a null grade, which cannot be guided")]
    public void BadDefaultGuidanceMetadataIsRefused(string value, bool nullGrade, string expected)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Generate("generate", "--model", WithGuidance(value, nullGrade), "--out", dir.Combine("o"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains(expected, err);
        Assert.False(Directory.Exists(dir.Combine("o")));
    }

    [Fact]
    public void ExportWritesTheScaleTheCardRecommendsItAndAnUnguidableRunIsRefused()
    {
        using var dir = new TempDirectory();
        string onnx = dir.Combine("m.onnx");
        var written = InProcessCli.Train("export", "--checkpoint", model.Checkpoint, "--out", onnx, "--default-sampler", "ddpm", "--default-steps", "20", "--default-guidance", "2");
        Assert.True(written.Code == 0, written.Err);
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx))
            Assert.Equal("2", session.ModelMetadata.CustomMetadataMap[ModelContract.Keys.DefaultGuidance]);
        string card = File.ReadAllText(Path.ChangeExtension(onnx, ".md"));
        Assert.Contains("| default guidance | 2:", card);
        var carded = InProcessCli.Train("card", "--model", onnx);
        Assert.True(carded.Code == 0, carded.Err);
        Assert.Contains("Recommended sampler: ddpm, 20 steps, guidance 2 (the model's default) (`kneeonnx-gen generate --model m.onnx --sampler ddpm --steps 20 --guidance 2 --out DIR`)",
            File.ReadAllText(Path.ChangeExtension(onnx, ".md")));

        string bad = dir.Combine("bad.onnx");
        var refused = InProcessCli.Train("export", "--checkpoint", model.Checkpoint, "--out", bad, "--default-guidance", "60");
        Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.BadInputExitCode, refused.Code);
        Assert.Contains("--default-guidance must be in 0..50, got 60", refused.Err);
        Assert.False(File.Exists(bad));

        TinyRuns.Train(dir.Combine("uncond"), conditioning: Conditioning.None, steps: 1);
        refused = InProcessCli.Train("export", "--checkpoint", dir.Combine("uncond"), "--out", bad, "--default-guidance", "2");
        Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.BadInputExitCode, refused.Code);
        Assert.Contains("has no null grade", refused.Err);
        Assert.False(File.Exists(bad));
    }
}
