using KneeOnnx.Generation;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// A model may name the sampler and step count measured best for it (kneeonnx.default_sampler / default_steps): every
/// verb uses that pair when the user names none, the user's choice always wins, and the metadata is checked like the rest.
/// </summary>
public class ModelDefaultSamplerTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private string WithDefault(string sampler, string steps) => model.WriteVariant($"default-{sampler.Replace("+", "p")}-{steps}.onnx", m =>
    {
        TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultSampler, sampler);
        TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultSteps, steps);
    });

    /// <summary>The sampler and steps column of every manifest row after a generate with <paramref name="extra"/>.</summary>
    private static string[] SamplerColumns(string modelPath, params string[] extra)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Generate(["generate", "--model", modelPath, "--provider", "cpu", "--grades", "1", "--per-grade", "2", "--out", dir.Path, .. extra]);
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(dir.Combine("manifest.csv"));
        var header = lines[0].Split(',');
        int sampler = Array.IndexOf(header, "sampler"), steps = Array.IndexOf(header, "steps");
        return lines.Skip(1).Select(l => { var f = l.Split(','); return $"{f[sampler]}-{f[steps]}"; }).Distinct().ToArray();
    }

    [Fact]
    public void GenerateUsesTheModelsOwnSamplerUnlessTheUserNamesOne()
    {
        string path = WithDefault("dpm++2m", "7");
        Assert.Equal(["dpm++2m-7"], SamplerColumns(path));
        Assert.Equal(["dpm++2m-3"], SamplerColumns(path, "--steps", "3"));
        // Another sampler asked for: its steps are the global default, not the model's count for its own sampler.
        Assert.Equal([$"ddim-{SamplerSettings.DefaultSteps}"], SamplerColumns(path, "--sampler", "ddim"));
        // A model without the keys keeps the global default.
        Assert.Equal([$"{SamplerSettings.DefaultSampler}-{SamplerSettings.DefaultSteps}"], SamplerColumns(model.Path));
    }

    [Fact]
    public void InfoSaysWhichSamplerTheModelUses()
    {
        var (code, stdout, err) = InProcessCli.Generate("info", "--model", WithDefault("ddim", "12"));
        Assert.True(code == 0, err);
        Assert.Contains("default sampler: ddim, 12 steps", stdout);
    }

    [Theory]
    [InlineData("euler", "10", "'kneeonnx.default_sampler' = 'euler' is not one of")]
    [InlineData("ddim", "0", "'kneeonnx.default_steps' = '0' is not a step count in 1..1000")]
    [InlineData("ddim", "1001", "is not a step count in 1..1000")]
    [InlineData("ddim", "ten", "is not a step count")]
    public void BadDefaultSamplerMetadataIsRefused(string sampler, string steps, string expected)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Generate("generate", "--model", WithDefault(sampler, steps), "--out", dir.Combine("o"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains(expected, err);
        Assert.False(Directory.Exists(dir.Combine("o")));
    }

    [Fact]
    public void OneKeyWithoutTheOtherIsRefused()
    {
        using var dir = new TempDirectory();
        string path = model.WriteVariant("half-default.onnx", m => TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultSampler, "ddim"));
        var (code, _, err) = InProcessCli.Generate("generate", "--model", path, "--out", dir.Combine("o"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("'kneeonnx.default_sampler' without 'kneeonnx.default_steps'", err);
    }

    [Fact]
    public void ExportWritesTheDefaultAndChecksIt()
    {
        using var dir = new TempDirectory();
        string onnx = dir.Combine("m.onnx");
        var written = InProcessCli.Train("export", "--checkpoint", model.Checkpoint, "--out", onnx, "--default-sampler", "dpm++2m", "--default-steps", "20");
        Assert.True(written.Code == 0, written.Err);
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx))
        {
            var meta = session.ModelMetadata.CustomMetadataMap;
            Assert.Equal("dpm++2m", meta[ModelContract.Keys.DefaultSampler]);
            Assert.Equal("20", meta[ModelContract.Keys.DefaultSteps]);
        }
        Assert.Contains("| default sampler | dpm++2m, 20 steps", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));
        // The card verb recommends what the model carries, unless told otherwise.
        var carded = InProcessCli.Train("card", "--model", onnx);
        Assert.True(carded.Code == 0, carded.Err);
        Assert.Contains("Recommended sampler: dpm++2m, 20 steps", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));
        carded = InProcessCli.Train("card", "--model", onnx, "--recommend-sampler", "ddim");
        Assert.True(carded.Code == 0, carded.Err);
        Assert.Contains("Recommended sampler: ddim, 50 steps", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));

        foreach (var (args, expected) in new (string[], string)[]
        {
            (["--default-sampler", "ddim"], "--default-sampler and --default-steps go together"),
            (["--default-sampler", "euler", "--default-steps", "5"], "--default-sampler 'euler' is not one of"),
            (["--default-sampler", "ddim", "--default-steps", "5000"], "--default-steps must be in 1..1000"),
        })
        {
            string other = dir.Combine("bad.onnx");
            var refused = InProcessCli.Train(["export", "--checkpoint", model.Checkpoint, "--out", other, .. args]);
            Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.BadInputExitCode, refused.Code);
            Assert.Contains(expected, refused.Err);
            Assert.False(File.Exists(other));
        }
    }
}
