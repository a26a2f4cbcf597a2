using Google.Protobuf;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// set-defaults rewrites the sampling defaults of an exported U-Net and nothing else: images made with the new defaults
/// are those the same settings give when asked for explicitly from the original file; a refused request leaves the file
/// as it was.
/// </summary>
public class SetDefaultsTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private static Dictionary<string, byte[]> Generate(string modelPath, string outDir, params string[] extra)
    {
        var (code, _, err) = InProcessCli.Generate(["generate", "--model", modelPath, "--provider", "cpu", "--seed", "3", "--grades", "1", "--per-grade", "2", "--out", outDir, .. extra]);
        Assert.True(code == 0, err);
        return PngFiles.Under(outDir);
    }

    private static Onnx.ModelProto Proto(string path) => Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));

    [Fact]
    public void NewDefaultsGiveTheImagesOfTheSameSettingsAskedForAndLeaveTheNetworkAlone()
    {
        using var dir = new TempDirectory();
        string copy = dir.Combine("with-defaults.onnx");
        var (code, stdout, err) = InProcessCli.Train("set-defaults", "--model", model.Path, "--out", copy,
            "--default-sampler", "ddim", "--default-steps", "7", "--default-guidance", "2");
        Assert.True(code == 0, err);
        Assert.Contains("→ ddim-7, guidance 2", stdout);

        using (var opened = KneeModel.Open(copy, new RuntimeOptions { Provider = ProviderRequest.Cpu }))
        {
            Assert.Equal("ddim", opened.Info.DefaultSampler);
            Assert.Equal(7, opened.Info.DefaultSteps);
            Assert.Equal(2.0, opened.Info.DefaultGuidance);
        }
        var (before, after) = (Proto(model.Path), Proto(copy));
        Assert.Equal(before.Graph.ToByteArray(), after.Graph.ToByteArray()); // weights and nodes byte for byte
        Assert.Equal(before.MetadataProps.Count + 4, after.MetadataProps.Count);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(model.Path))),
            after.MetadataProps.Single(p => p.Key == ModelContract.Keys.DefaultsSetFrom).Value);
        foreach (var entry in before.MetadataProps)
            Assert.Equal(entry.Value, after.MetadataProps.Single(p => p.Key == entry.Key).Value);

        var own = Generate(copy, dir.Combine("own"));
        var asked = Generate(model.Path, dir.Combine("asked"), "--sampler", "ddim", "--steps", "7", "--guidance", "2");
        Assert.Equal(2, own.Count);
        Assert.Equal(asked, own);

        // In place, a second time: the sampler and steps change, the guidance written before stays.
        (code, _, err) = InProcessCli.Train("set-defaults", "--model", copy, "--default-sampler", "dpm++2m", "--default-steps", "5");
        Assert.True(code == 0, err);
        using var again = KneeModel.Open(copy, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        Assert.Equal(("dpm++2m", 5, 2.0), (again.Info.DefaultSampler, again.Info.DefaultSteps, again.Info.DefaultGuidance));
        Assert.Single(Directory.GetFiles(dir.Path)); // no temporaries left beside it
    }

    [Fact]
    public void ARequestTheModelCannotHonourIsRefusedAndTheFileStaysAsItWas()
    {
        using var dir = new TempDirectory();
        string copy = dir.Combine("m.onnx");
        File.Copy(model.Path, copy);
        byte[] original = File.ReadAllBytes(copy);
        int timesteps;
        using (var opened = KneeModel.Open(copy, new RuntimeOptions { Provider = ProviderRequest.Cpu }))
            timesteps = opened.Info.Schedule.TrainTimesteps;
        string unguidable = model.WriteVariant("no-null-grade-set-defaults.onnx", m => TinyOnnxModel.SetMeta(m, ModelContract.Keys.NullGrade, "-1"));
        byte[] unguidableBytes = File.ReadAllBytes(unguidable);

        foreach (var (args, message) in new (string[], string)[]
        {
            (["--model", copy, "--default-sampler", "ddim", "--default-steps", $"{timesteps + 1}"], $"--default-steps must be in 1..{timesteps} (the model's T), got {timesteps + 1}"),
            (["--model", copy, "--default-sampler", "ddim"], "--default-sampler and --default-steps go together"),
            (["--model", copy, "--default-sampler", "euler", "--default-steps", "5"], "--default-sampler 'euler' is not one of"),
            (["--model", copy], "nothing to set"),
            (["--model", unguidable, "--default-guidance", "2"], "has no null grade"),
            (["--model", dir.Combine("missing.onnx"), "--default-guidance", "2"], "missing.onnx"),
        })
        {
            var (code, _, err) = InProcessCli.Train(["set-defaults", .. args]);
            Assert.NotEqual(0, code);
            Assert.Contains(message, err);
            Assert.Single(err.Trim().Split('\n'));
        }
        Assert.Equal(original, File.ReadAllBytes(copy));
        Assert.Equal(unguidableBytes, File.ReadAllBytes(unguidable));
        Assert.Single(Directory.GetFiles(dir.Path));
    }
}
