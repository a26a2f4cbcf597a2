using KneeOnnx.Output;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// The SDE solvers' η (--eta) reaches the sampler, travels in file names and the manifest, may be the model's own default
/// with its own sampler (kneeonnx.default_eta, written by export/set-defaults --default-eta), and is refused where no
/// sampler noise exists for it to scale.
/// </summary>
public class ModelDefaultEtaTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private string WithDefaultEta(string sampler, string eta) => model.WriteVariant($"default-eta-{sampler}-{eta}.onnx", m =>
    {
        TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultSampler, sampler);
        TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultSteps, "6");
        TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultEta, eta);
    });

    private static (string[] Manifest, byte[] FirstImage, string FirstName) Generate(string modelPath, string outDir, params string[] extra)
    {
        var (code, _, err) = InProcessCli.Generate(["generate", "--model", modelPath, "--provider", "cpu", "--grades", "1", "--per-grade", "2", "--seed", "3", "--out", outDir, .. extra]);
        Assert.True(code == 0, err);
        string first = Directory.GetFiles(Path.Combine(outDir, "1"), "*.png").Order().First();
        return (File.ReadAllLines(Path.Combine(outDir, "manifest.csv")), File.ReadAllBytes(first), Path.GetFileName(first));
    }

    private static string EtaColumn(string[] manifest)
    {
        var header = manifest[0].Split(',');
        return manifest[1].Split(',')[Array.IndexOf(header, "eta")];
    }

    [Fact]
    public void TheModelsEtaGoesWithItsSamplerUnlessTheUserNamesOneAndAFolderKeepsItsOwn()
    {
        using var dir = new TempDirectory();
        string path = WithDefaultEta("dpm++2m-sde", "0.5");
        var half = Generate(path, dir.Combine("h"));
        var full = Generate(path, dir.Combine("f"), "--eta", "1");

        Assert.Contains("_eta0.5_", half.FirstName);
        Assert.Equal("0.5", EtaColumn(half.Manifest));
        Assert.DoesNotContain("eta", full.FirstName); // η = 1 is the SDE's own: no tag, as before η existed
        Assert.Equal("1", EtaColumn(full.Manifest));
        // Another amount of fresh noise, other images: η reaches the sampler, not only the names.
        Assert.NotEqual(half.FirstImage, full.FirstImage);
        // The same request asked for explicitly on a model without the key is byte for byte the model's default.
        Assert.Equal(half.FirstImage, Generate(model.Path, dir.Combine("h2"), "--sampler", "dpm++2m-sde", "--steps", "6", "--eta", "0.5").FirstImage);
        // And the full SDE is what the sampler gives when no η is named anywhere.
        Assert.Equal(full.FirstImage, Generate(model.Path, dir.Combine("f2"), "--sampler", "dpm++2m-sde", "--steps", "6").FirstImage);
        // Another sampler runs with its own η: the model's was measured with its own sampler.
        var ddim = Generate(path, dir.Combine("d"), "--sampler", "ddim", "--steps", "6");
        Assert.DoesNotContain("eta", ddim.FirstName);
        Assert.Equal("0", EtaColumn(ddim.Manifest));

        var (code, _, err) = InProcessCli.Generate("generate", "--model", path, "--provider", "cpu", "--grades", "1", "--per-grade", "3", "--seed", "3",
            "--out", dir.Combine("h"), "--eta", "0.75");
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("written with eta 0.5, this run asks for 0.75", err);
        Assert.Equal(2, Directory.GetFiles(dir.Combine("h", "1")).Length);
    }

    [Fact]
    public void AnSdeFolderWrittenBeforeEtaExistedResumesAsTheFullSde()
    {
        // Before η, manifests recorded 0 for the SDE solvers; η = 0 is refused for them, so that 0 can only mean the full SDE.
        var old = new Dictionary<string, string> { ["sampler"] = "dpm++2m-sde", ["steps"] = "45", ["eta"] = "0", ["guidance"] = "1", ["seed"] = "1" };
        var full = new ImageProvenance("m", "abc", null, 128, "dpm++2m-sde", 45, 1, 1, 1);
        Assert.Null(full.DifferenceFrom(old));
        Assert.Contains("written with eta 0, this run asks for 0.5", (full with { Eta = 0.5 }).DifferenceFrom(old));
        // DDIM's 0 is a real η: it never stands for 1.
        var ddim = new ImageProvenance("m", "abc", null, 128, "ddim", 45, 1, 1, 1);
        Assert.Contains("written with eta 0, this run asks for 1", ddim.DifferenceFrom(new Dictionary<string, string>(old) { ["sampler"] = "ddim" }));
    }

    [Theory]
    [InlineData("dpm++2m", "0.5", "--eta 0.5: dpm++2m adds no noise for η to scale")]
    [InlineData("ddpm", "0.5", "--eta 0.5: ddpm adds no noise for η to scale")]
    [InlineData("dpm++2m-sde", "0", "--eta must be in (0, 1] (η = 0 is the ODE: dpm++2m or dpm++3m) for dpm++2m-sde, got 0")]
    [InlineData("dpm++3m-sde", "1.5", "--eta must be in (0, 1]")]
    [InlineData("ddim", "-0.1", "--eta must be in 0..1 for ddim, got -0.1")]
    public void AnEtaNoSamplerCanUseIsRefusedInOneLine(string sampler, string eta, string expected)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Generate("generate", "--model", model.Path, "--sampler", sampler, "--steps", "4", "--eta", eta, "--out", dir.Combine("a"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.Combine("a")));
    }

    [Theory]
    [InlineData("ddpm", "0.5", "'kneeonnx.default_eta' without a default sampler that takes η")]
    [InlineData("dpm++2m-sde", "0", "'kneeonnx.default_eta' = '0' is not a number in (0, 1] for dpm++2m-sde")]
    [InlineData("ddim", "half", "'kneeonnx.default_eta' = 'half' is not a number in 0..1 for ddim")]
    public void AModelWhoseEtaNoSamplerCanUseIsRefused(string sampler, string eta, string expected)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Generate("generate", "--model", WithDefaultEta(sampler, eta), "--out", dir.Combine("a"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains(expected, err);
        Assert.False(Directory.Exists(dir.Combine("a")));
    }

    [Fact]
    public void ExportAndSetDefaultsWriteTheEtaWithTheSamplerAndInfoAndTheCardSayIt()
    {
        using var dir = new TempDirectory();
        string onnx = dir.Combine("m.onnx");
        var written = InProcessCli.Train("export", "--checkpoint", model.Checkpoint, "--out", onnx, "--default-sampler", "dpm++3m-sde", "--default-steps", "20", "--default-eta", "0.5");
        Assert.True(written.Code == 0, written.Err);
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx))
            Assert.Equal("0.5", session.ModelMetadata.CustomMetadataMap[ModelContract.Keys.DefaultEta]);
        Assert.Contains("| default sampler | dpm++3m-sde, 20 steps, η 0.5", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));
        var info = InProcessCli.Generate("info", "--model", onnx);
        Assert.True(info.Code == 0, info.Err);
        Assert.Contains("default sampler: dpm++3m-sde, 20 steps, η 0.5", info.Out);
        var carded = InProcessCli.Train("card", "--model", onnx);
        Assert.True(carded.Code == 0, carded.Err);
        Assert.Contains("--sampler dpm++3m-sde --steps 20 --eta 0.5", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));

        // A new sampler without --default-eta takes the sampler's own η: the old key goes with the old sampler.
        var reset = InProcessCli.Train("set-defaults", "--model", onnx, "--default-sampler", "dpm++2m-sde", "--default-steps", "30");
        Assert.True(reset.Code == 0, reset.Err);
        Assert.Contains("dpm++3m-sde-20 η 0.5 → dpm++2m-sde-30", reset.Out);
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx))
            Assert.False(session.ModelMetadata.CustomMetadataMap.ContainsKey(ModelContract.Keys.DefaultEta));

        foreach (var (args, expected) in new (string[], string)[]
        {
            (["--default-eta", "0.5"], "--default-eta goes with --default-sampler"),
            (["--default-sampler", "dpm++2m", "--default-steps", "5", "--default-eta", "0.5"], "--default-eta 0.5: dpm++2m adds no noise for η to scale"),
            (["--default-sampler", "dpm++2m-sde", "--default-steps", "5", "--default-eta", "2"], "--default-eta must be in (0, 1]"),
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
