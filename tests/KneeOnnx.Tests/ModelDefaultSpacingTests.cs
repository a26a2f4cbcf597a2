using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// The timestep spacing (--spacing trailing | karras) reaches the sampler, travels in file names and the manifest, may
/// be the model's own default (kneeonnx.default_spacing, written by export --default-spacing), and a folder written with
/// one spacing is not resumed with the other.
/// </summary>
public class ModelDefaultSpacingTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private string WithDefaultSpacing(string spacing) => model.WriteVariant($"default-spacing-{spacing}.onnx", m =>
    {
        TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultSampler, "dpm++2m");
        TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultSteps, "6");
        TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultSpacing, spacing);
    });

    private static (string[] Manifest, byte[] FirstImage, string FirstName) Generate(string modelPath, string outDir, params string[] extra)
    {
        var (code, _, err) = InProcessCli.Generate(["generate", "--model", modelPath, "--provider", "cpu", "--grades", "1", "--per-grade", "2", "--seed", "3", "--out", outDir, .. extra]);
        Assert.True(code == 0, err);
        string first = Directory.GetFiles(Path.Combine(outDir, "1"), "*.png").Order().First();
        return (File.ReadAllLines(Path.Combine(outDir, "manifest.csv")), File.ReadAllBytes(first), Path.GetFileName(first));
    }

    [Fact]
    public void TheModelsSpacingIsUsedUnlessTheUserNamesOneAndAFolderKeepsItsOwn()
    {
        using var dir = new TempDirectory();
        string path = WithDefaultSpacing("karras");
        var karras = Generate(path, dir.Combine("k"));
        var trailing = Generate(path, dir.Combine("t"), "--spacing", "trailing");

        Assert.Contains("_karras_", karras.FirstName);
        Assert.DoesNotContain("karras", trailing.FirstName);
        var header = karras.Manifest[0].Split(',');
        Assert.Equal("spacing", header[Array.IndexOf(header, "steps") + 1]);
        Assert.All(karras.Manifest.Skip(1), row => Assert.Equal("karras", row.Split(',')[Array.IndexOf(header, "spacing")]));
        Assert.DoesNotContain("spacing", trailing.Manifest[0]);
        // Other timesteps, other images: the spacing reaches the sampler, not only the names.
        Assert.NotEqual(karras.FirstImage, trailing.FirstImage);
        // Another sampler runs on trailing spacing: the model's spacing was measured with its own sampler.
        Assert.DoesNotContain("karras", Generate(path, dir.Combine("d"), "--sampler", "ddim", "--steps", "6").FirstName);
        // The same request again, asked for explicitly, is byte for byte the model's default.
        Assert.Equal(karras.FirstImage, Generate(model.Path, dir.Combine("k2"), "--sampler", "dpm++2m", "--steps", "6", "--spacing", "karras").FirstImage);

        var (code, _, err) = InProcessCli.Generate("generate", "--model", path, "--provider", "cpu", "--grades", "1", "--per-grade", "3", "--seed", "3",
            "--out", dir.Combine("k"), "--spacing", "trailing");
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("written with karras timestep spacing, this run asks for trailing", err);
        Assert.Equal(2, Directory.GetFiles(dir.Combine("k", "1")).Length);
    }

    [Fact]
    public void BadSpacingsAreRefusedInOneLine()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Generate("generate", "--model", WithDefaultSpacing("log"), "--out", dir.Combine("a"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("'kneeonnx.default_spacing' = 'log' is not one of trailing, karras", err);
        Assert.False(Directory.Exists(dir.Combine("a")));

        string alone = model.WriteVariant("spacing-alone.onnx", m => TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultSpacing, "karras"));
        (code, _, err) = InProcessCli.Generate("generate", "--model", alone, "--out", dir.Combine("c"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("'kneeonnx.default_spacing' without 'kneeonnx.default_sampler'", err);

        (code, _, err) = InProcessCli.Generate("generate", "--model", model.Path, "--spacing", "uniform", "--out", dir.Combine("b"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("--spacing 'uniform' is not one of trailing, karras", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.Combine("b")));
    }

    [Fact]
    public void ExportWritesTheSpacingWithTheDefaultSamplerAndInfoAndTheCardSayIt()
    {
        using var dir = new TempDirectory();
        string onnx = dir.Combine("m.onnx");
        var written = InProcessCli.Train("export", "--checkpoint", model.Checkpoint, "--out", onnx, "--default-sampler", "dpm++2m", "--default-steps", "20", "--default-spacing", "karras");
        Assert.True(written.Code == 0, written.Err);
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx))
            Assert.Equal("karras", session.ModelMetadata.CustomMetadataMap[ModelContract.Keys.DefaultSpacing]);
        Assert.Contains("| default sampler | dpm++2m, 20 steps, karras timestep spacing", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));
        var info = InProcessCli.Generate("info", "--model", onnx);
        Assert.True(info.Code == 0, info.Err);
        Assert.Contains("default sampler: dpm++2m, 20 steps, karras spacing", info.Out);
        var carded = InProcessCli.Train("card", "--model", onnx);
        Assert.True(carded.Code == 0, carded.Err);
        Assert.Contains("--sampler dpm++2m --steps 20 --spacing karras", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));

        foreach (var (args, expected) in new (string[], string)[]
        {
            (["--default-spacing", "karras"], "--default-spacing goes with --default-sampler"),
            (["--default-sampler", "ddim", "--default-steps", "5", "--default-spacing", "log"], "--default-spacing 'log' is not one of trailing, karras"),
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
