using KneeOnnx.Diffusion;
using KneeOnnx.Generation;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// Guidance limited to a range of noise levels (Kynkäänniemi et al. 2024): steps outside it run the conditional model
/// alone, so the whole interval must give guidance's bytes and an empty one the unguided bytes; the interval travels
/// in file names, the manifest and the model's metadata, and a folder written with another interval is not resumed.
/// </summary>
public class GuidanceIntervalTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private static byte[][] Generate(string modelPath, string outDir, params string[] extra)
    {
        var (code, _, err) = InProcessCli.Generate(["generate", "--model", modelPath, "--provider", "cpu", "--sampler", "ddim", "--steps", "4", "--seed", "3",
            "--grades", "2", "--per-grade", "2", "--out", outDir, .. extra]);
        Assert.True(code == 0, err);
        // Names carry the settings' tag, so compare images in plan order, not by name.
        return Directory.GetFiles(outDir, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();
    }

    [Fact]
    public void TheWholeRangeGivesGuidedBytesAndAnEmptyOneUnguidedBytes()
    {
        using var dir = new TempDirectory();
        var guided = Generate(model.Path, dir.Combine("guided"), "--guidance", "3");
        var plain = Generate(model.Path, dir.Combine("plain"), "--guidance", "1");
        var everyStep = Generate(model.Path, dir.Combine("all"), "--guidance", "3", "--guidance-interval", "0,inf");
        var noStep = Generate(model.Path, dir.Combine("none"), "--guidance", "3", "--guidance-interval", "1e6,1e7");
        // DDIM-4 on the linear schedule visits t = 750, 500, 250, 0 at σ ≈ 17, 3.4, 0.96, 0.01: "2,inf" guides the first two.
        var highNoise = Generate(model.Path, dir.Combine("high"), "--guidance", "3", "--guidance-interval", "2,inf");
        Assert.Equal(guided, everyStep);
        Assert.Equal(plain, noStep);
        Assert.NotEqual(guided, plain);
        Assert.All(highNoise, (image, i) => { Assert.NotEqual(guided[i], image); Assert.NotEqual(plain[i], image); });

        var manifest = File.ReadAllLines(dir.Combine("high", "manifest.csv"));
        var header = manifest[0].Split(',');
        Assert.Equal("guidance_interval", header[Array.IndexOf(header, "guidance") + 1]);
        Assert.All(manifest.Skip(1), row => Assert.Contains(",3,\"2,inf\",", row));
        Assert.DoesNotContain("guidance_interval", File.ReadAllLines(dir.Combine("guided", "manifest.csv"))[0]);
        Assert.All(Directory.GetFiles(dir.Combine("high"), "*.png", SearchOption.AllDirectories), f => Assert.Contains("_w3_gi2-inf", f));
    }

    [Fact]
    public void AFolderWrittenWithAnotherIntervalIsNotResumed()
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("o");
        var first = Generate(model.Path, outDir, "--guidance", "3", "--guidance-interval", "2,inf");
        var again = Generate(model.Path, outDir, "--guidance", "3", "--guidance-interval", "2,inf"); // the same request resumes (nothing left to do)
        Assert.Equal(first, again);
        foreach (var other in new[] { new[] { "--guidance-interval", "0.5,inf" }, [] })
        {
            var (code, _, err) = InProcessCli.Generate(["generate", "--model", model.Path, "--provider", "cpu", "--sampler", "ddim", "--steps", "4", "--seed", "3",
                "--grades", "2", "--per-grade", "2", "--out", outDir, "--guidance", "3", .. other]);
            Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
            Assert.Contains("written with guidance limited to σ in (2,inf]", err);
            Assert.Single(err.Trim().Split('\n'));
        }
    }

    [Fact]
    public void TheModelsOwnIntervalIsUsedUnlessOneIsAskedForAndInfoNamesIt()
    {
        using var dir = new TempDirectory();
        string path = model.WriteVariant("interval.onnx", m =>
        {
            TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultGuidance, "3");
            TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultGuidanceInterval, "2,inf");
        });
        var own = Generate(path, dir.Combine("own"));
        var spelt = Generate(model.Path, dir.Combine("spelt"), "--guidance", "3", "--guidance-interval", "2,inf");
        var overridden = Generate(path, dir.Combine("every"), "--guidance-interval", "0,inf");
        var guided = Generate(model.Path, dir.Combine("guided"), "--guidance", "3");
        Assert.Equal(spelt, own);
        Assert.Equal(guided, overridden);
        var (code, stdout, err) = InProcessCli.Generate("info", "--model", path);
        Assert.True(code == 0, err);
        Assert.Contains("default guidance 3 (the model's own, used when --guidance is left out), applied at noise levels σ in (2,inf]", stdout);
    }

    [Fact]
    public void ExportWritesTheIntervalTheCardRecommendsItAndRefusesItWithoutGuidance()
    {
        using var dir = new TempDirectory();
        string onnx = dir.Combine("m.onnx");
        var written = InProcessCli.Train("export", "--checkpoint", model.Checkpoint, "--out", onnx, "--default-guidance", "2", "--default-guidance-interval", "2,inf");
        Assert.True(written.Code == 0, written.Err);
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx))
            Assert.Equal("2,inf", session.ModelMetadata.CustomMetadataMap[ModelContract.Keys.DefaultGuidanceInterval]);
        Assert.Contains("applied at noise levels σ in (2,inf] (`--guidance-interval`)", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));
        var carded = InProcessCli.Train("card", "--model", onnx);
        Assert.True(carded.Code == 0, carded.Err);
        Assert.Contains("--guidance 2 --guidance-interval 2,inf --out DIR", File.ReadAllText(Path.ChangeExtension(onnx, ".md")));

        string bad = dir.Combine("bad.onnx");
        var refused = InProcessCli.Train("export", "--checkpoint", model.Checkpoint, "--out", bad, "--default-guidance-interval", "2,inf");
        Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.BadInputExitCode, refused.Code);
        Assert.Contains("--default-guidance-interval says where --default-guidance applies", refused.Err);
        Assert.False(File.Exists(bad));
    }

    [Theory]
    [InlineData("2,1", "is not an interval of noise levels")]
    [InlineData("-1,2", "is not an interval of noise levels")]
    [InlineData("one,two", "is not an interval of noise levels")]
    [InlineData("1", "is not an interval of noise levels")]
    [InlineData("NaN,2", "is not an interval of noise levels")]
    public void BadIntervalsAreRefusedInOneLineFromTheCommandLineAndFromMetadata(string value, string expected)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Generate("generate", "--model", model.Path, "--guidance", "2", "--guidance-interval", value, "--out", dir.Combine("o"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains($"--guidance-interval '{value}' {expected}", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.Combine("o")));

        string path = model.WriteVariant($"bad-interval-{value.GetHashCode()}.onnx", m => TinyOnnxModel.SetMeta(m, ModelContract.Keys.DefaultGuidanceInterval, value));
        (code, _, err) = InProcessCli.Generate("generate", "--model", path, "--out", dir.Combine("o"));
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains($"metadata 'kneeonnx.default_guidance_interval' '{value}' {expected}", err);
        Assert.False(Directory.Exists(dir.Combine("o")));
    }

    /// <summary>σ_t against its closed form at the first two steps of the linear schedule (ᾱ₀ = 1 − β₀, ᾱ₁ = ᾱ₀(1 − β₁)).</summary>
    [Fact]
    public void NoiseLevelsFollowTheClosedFormAndTheZeroSnrScheduleEndsAtInfinity()
    {
        var linear = NoiseSchedule.Linear(1000, 1e-4, 0.02);
        double beta1 = 1e-4 + (0.02 - 1e-4) / 999;
        Assert.Equal(Math.Sqrt(1e-4 / (1 - 1e-4)), linear.NoiseToSignal(0), 12);
        Assert.Equal(Math.Sqrt(1 / ((1 - 1e-4) * (1 - beta1)) - 1), linear.NoiseToSignal(1), 12);
        Assert.True(double.IsPositiveInfinity(linear.WithZeroTerminalSnr().NoiseToSignal(999)));

        // σ₀ = 0.01000050…: inside (0.01, 1], outside (0.0101, 1]; the last step of a zero-SNR schedule is inside (5, inf] only.
        double At(double low, double high, int t, NoiseSchedule schedule) =>
            new SamplerSettings { Guidance = 2, GuidanceInterval = new GuidanceInterval(low, high) }.GuidanceAt(t, schedule);
        Assert.Equal(2.0, At(0.01, 1, 0, linear));
        Assert.Equal(1.0, At(0.0101, 1, 0, linear));
        Assert.Equal(2.0, At(5, double.PositiveInfinity, 999, linear.WithZeroTerminalSnr()));
        Assert.Equal(1.0, At(5, 1e9, 999, linear.WithZeroTerminalSnr()));
    }
}
