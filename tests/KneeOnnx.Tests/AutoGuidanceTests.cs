using KneeOnnx.Generation;
using KneeOnnx.Output;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using Onnx;

namespace KneeOnnx.Tests;

/// <summary>
/// Autoguidance (Karras et al. 2024): ε = ε_guide + w·(ε_model − ε_guide) at every step. The guide here is the tiny
/// model with one convolution's weights halved: the same kind of model, predicting differently.
/// </summary>
public class AutoGuidanceTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private string WeakerGuide() => model.WriteWeakerVariant("guide.onnx");

    private static byte[][] Generate(string modelPath, string outDir, params string[] extra)
    {
        var (code, _, err) = InProcessCli.Generate(["generate", "--model", modelPath, "--provider", "cpu", "--sampler", "ddim", "--steps", "4", "--seed", "5",
            "--grades", "1,3", "--per-grade", "2", "--out", outDir, .. extra]);
        Assert.True(code == 0, err);
        return Directory.GetFiles(outDir, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
    }

    /// <summary>
    /// The guide follows the guidance interval step by step: at w = 0 the guided run is the guide's own run with the same
    /// interval, which differs from the guide guided at every step (so an interval dropped on the guide's side would show).
    /// </summary>
    [Fact]
    public void TheGuideFollowsTheGuidanceIntervalOfEachStep()
    {
        using var dir = new TempDirectory();
        string guide = WeakerGuide();
        // DDIM-4 visits σ ≈ 17, 3.4, 0.96, 0.01: "2,inf" guides the first two steps only.
        var guideInterval = Generate(guide, dir.Combine("guide-gi"), "--guidance", "3", "--guidance-interval", "2,inf");
        var guideEvery = Generate(guide, dir.Combine("guide-all"), "--guidance", "3");
        Assert.All(guideInterval, (image, i) => Assert.NotEqual(guideEvery[i], image));
        Assert.Equal(guideInterval, Generate(model.Path, dir.Combine("w0-gi"), "--guidance", "3", "--guidance-interval", "2,inf", "--guide-model", guide, "--autoguidance", "0"));
    }

    /// <summary>Evaluate reuses a folder's images by the settings' tag alone, so weights that differ anywhere must tag differently.</summary>
    [Fact]
    public void WeightsThatDifferInTheFourthDecimalTagDifferently()
    {
        var a = new SamplerSettings { Sampler = "ddim", Steps = 4, Guidance = 2, AutoGuidance = 1.5 };
        Assert.Equal("ddim4_w2_ag1.5", a.Tag);
        Assert.NotEqual(a.Tag, (a with { AutoGuidance = 1.5004 }).Tag);
        Assert.NotEqual(a.Tag, (a with { Guidance = 2.0004 }).Tag);
        Assert.NotEqual((a with { Eta = 0.5 }).Tag, (a with { Eta = 0.5004 }).Tag);
    }

    /// <summary>
    /// w = 0 is the guide alone, byte for byte; a guide identical to the model changes nothing
    /// at any weight, with classifier-free guidance on too (so the guide gets the same grade and guidance scale).
    /// </summary>
    [Fact]
    public void WeightZeroIsTheGuideAloneAndAGuideEqualToTheModelChangesNothing()
    {
        using var dir = new TempDirectory();
        string guide = WeakerGuide();
        var plain = Generate(model.Path, dir.Combine("plain"), "--guidance", "3");
        var guideAlone = Generate(guide, dir.Combine("guide-alone"), "--guidance", "3");
        Assert.NotEqual(plain, guideAlone);
        Assert.Equal(guideAlone, Generate(model.Path, dir.Combine("w0"), "--guidance", "3", "--guide-model", guide, "--autoguidance", "0"));
        string copy = dir.Combine("copy.onnx");
        File.Copy(model.Path, copy);
        Assert.Equal(plain, Generate(model.Path, dir.Combine("self"), "--guidance", "3", "--guide-model", copy, "--autoguidance", "2.5"));

        var guided = Generate(model.Path, dir.Combine("w2"), "--guidance", "3", "--guide-model", guide, "--autoguidance", "2");
        Assert.All(guided, (image, i) => { Assert.NotEqual(plain[i], image); Assert.NotEqual(guideAlone[i], image); });
        var manifest = File.ReadAllLines(dir.Combine("w2", "manifest.csv"));
        var header = manifest[0].Split(',');
        int column = Array.IndexOf(header, Manifest.AutoGuidanceColumn);
        Assert.Equal(Manifest.GuideColumn, header[column + 1]);
        Assert.All(manifest.Skip(1), row => Assert.Equal(["2", TinyLatentModel.Sha256(guide)], row.Split(',').Skip(column).Take(2)));
        Assert.All(Directory.GetFiles(dir.Combine("w2"), "*.png", SearchOption.AllDirectories), f => Assert.Contains("_w3_ag2_", f));
        Assert.DoesNotContain(Manifest.AutoGuidanceColumn, File.ReadAllLines(dir.Combine("plain", "manifest.csv"))[0]);
    }

    /// <summary>
    /// One DDIM step from pure noise, unclipped, is affine in the model's prediction, so the denoised samples at weights
    /// 0, 1 and 2 must lie on one line: x(2) = 2·x(1) − x(0). A weight applied to the wrong prediction breaks that.
    /// </summary>
    [Fact]
    public void TheSampleMovesLinearlyInTheWeightBeyondTheModel()
    {
        using var main = KneeModel.Open(model.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var guide = KneeModel.Open(WeakerGuide(), new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var generator = new ImageGenerator(main, guide);
        float[] At(double w) => generator.Denoise(2, 7, [0, 1, 2], new SamplerSettings { Sampler = "ddim", Steps = 1, ClipDenoised = false, AutoGuidance = w });
        float[] x0 = At(0), x1 = At(1), x2 = At(2);
        double gap = 0, worst = 0;
        for (int i = 0; i < x1.Length; i++)
        {
            gap = Math.Max(gap, Math.Abs(x1[i] - x0[i]));
            worst = Math.Max(worst, Math.Abs(x2[i] - (2 * x1[i] - x0[i])));
        }
        Assert.True(gap > 1e-3, $"the guide and the model predict nearly the same ({gap}): the test could not tell the weights apart");
        Assert.True(worst < 1e-4 * Math.Max(1, gap), $"x(2) is {worst} off the line through x(0) and x(1) (their largest gap {gap})");
    }

    [Theory]
    [InlineData(ModelContract.Keys.PredictionType, "v_prediction", "it predicts v_prediction, the model epsilon")]
    [InlineData(ModelContract.Keys.BetaEnd, "0.03", "its noise schedule differs from the model's")]
    [InlineData(ModelContract.Keys.NumTrainTimesteps, "500", "it was trained with T = 500, the model with T = ")]
    public void AGuideOfAnotherKindIsRefusedNamingBothFiles(string key, string value, string expected)
    {
        using var dir = new TempDirectory();
        string guide = model.WriteVariant($"guide-{value}.onnx", proto => TinyOnnxModel.SetMeta(proto, key, value));
        var (code, _, err) = InProcessCli.Generate(["generate", "--model", model.Path, "--provider", "cpu", "--steps", "2", "--per-grade", "1",
            "--out", dir.Combine("o"), "--guide-model", guide, "--autoguidance", "2"]);
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains($"{guide}: cannot guide {model.Path}: {expected}", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.Combine("o")), "a refused guide left its output folder behind");
    }

    [Fact]
    public void OptionsThatNeedEachOtherAreRefusedAndAnotherGuideDoesNotResumeAFolder()
    {
        using var dir = new TempDirectory();
        string guide = WeakerGuide();
        foreach (var (args, message) in new[]
        {
            (new[] { "--autoguidance", "2" }, "--autoguidance needs --guide-model"),
            (["--guide-model", guide], $"--guide-model {guide} needs --autoguidance W"),
            (["--guide-model", guide, "--autoguidance", "-1"], "--autoguidance must be in 0..50, got -1"),
            (["--guide-model", guide, "--autoguidance", "1"], "--autoguidance 1 is no autoguidance"),
        })
        {
            var (code, _, err) = InProcessCli.Generate(["generate", "--model", model.Path, "--provider", "cpu", "--per-grade", "1", "--out", dir.Combine("x"), .. args]);
            Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
            Assert.Contains(message, err);
        }
        Assert.False(Directory.Exists(dir.Combine("x")));

        string outDir = dir.Combine("o");
        Generate(model.Path, outDir, "--guide-model", guide, "--autoguidance", "2");
        string copy = dir.Combine("other-guide.onnx");
        File.WriteAllBytes(copy, [.. File.ReadAllBytes(model.Path)]);
        var (again, _, error) = InProcessCli.Generate(["generate", "--model", model.Path, "--provider", "cpu", "--sampler", "ddim", "--steps", "4", "--seed", "5",
            "--grades", "1,3", "--per-grade", "2", "--out", outDir, "--guide-model", copy, "--autoguidance", "2"]);
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, again);
        Assert.Contains("written with autoguidance 2 by the guide of sha256", error);
    }

    /// <summary>Latent models pair by the latent space, not the decoder file: a different decoder of the same autoencoder guides, another autoencoder's is refused.</summary>
    [Fact]
    public void LatentModelsPairByTheirAutoencoderNotTheirDecoderFile()
    {
        using var latent = new TinyLatentModel();
        using var dir = new TempDirectory();
        string sameSpace = latent.WriteVariant("same-space", decoder: d => TinyOnnxModel.SetMeta(d, ModelContract.Keys.TrainSteps, "12345"));
        Assert.NotEqual(latent.DecoderSha256, TinyLatentModel.Sha256(Path.Combine(sameSpace, "vae_decoder", "model.onnx")));
        var (code, _, err) = InProcessCli.Generate(["generate", "--model", latent.Folder, "--provider", "cpu", "--steps", "2", "--per-grade", "1", "--grades", "0",
            "--out", dir.Combine("ok"), "--guide-model", sameSpace, "--autoguidance", "2"]);
        Assert.True(code == 0, err);

        string otherSpace = latent.WriteVariant("other-space", decoder: d => TinyOnnxModel.SetMeta(d, AutoencoderContract.Keys.AutoencoderSha256, new string('a', 64)));
        (code, _, err) = InProcessCli.Generate(["generate", "--model", latent.Folder, "--provider", "cpu", "--steps", "2", "--per-grade", "1", "--grades", "0",
            "--out", dir.Combine("refused"), "--guide-model", otherSpace, "--autoguidance", "2"]);
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("it was trained on the latents of autoencoder aaaaaaaaaaaa, the model on those of", err);
    }

    /// <summary>A guide only predicts noise: its decoder is checked and described, but its session is not kept open.</summary>
    [Fact]
    public void AGuideKeepsItsDecodersDescriptionNotItsSessionAndIsStillChecked()
    {
        using var latent = new TinyLatentModel();
        var cpu = new RuntimeOptions { Provider = ProviderRequest.Cpu };
        using var full = KneeModel.Open(latent.Folder, cpu);
        using var guide = KneeModel.OpenGuide(latent.Folder, cpu);
        Assert.NotNull(full.Decoder);
        Assert.Null(guide.Decoder);
        Assert.Equal(latent.DecoderSha256, guide.DecoderSha256);
        Assert.Equal(full.Decoder!.Info.AutoencoderSha256, guide.DecoderInfo!.AutoencoderSha256);
        Assert.Equal(full.Decoder.Info.ScaleFactor, guide.DecoderInfo.ScaleFactor);

        string foreign = latent.WriteVariant("foreign-decoder", unet: u => TinyOnnxModel.SetMeta(u, ModelContract.Keys.DecoderSha256, new string('b', 64)));
        var e = Assert.Throws<InvalidModelException>(() => KneeModel.OpenGuide(foreign, cpu));
        Assert.Contains("the two files do not belong together", e.Message);
    }
}
