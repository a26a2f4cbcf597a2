using KneeOnnx.Cli;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using Onnx;

namespace KneeOnnx.Tests;

public class WriteFailureTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private static InProcessCli.Result Run(params string[] args) => InProcessCli.Generate(args);

    [Fact]
    public void AWriteFailingMidRunKeepsEarlierImagesAndSaysWhy()
    {
        using var dir = new TempDirectory();
        string[] Args(int count) => ["generate", "--model", model.Path, "--provider", "cpu", "--grades", "1", "--per-grade", count.ToString(), "--batch", "1", "--steps", "2", "--out", dir.Path];
        Assert.Equal(0, Run(Args(2)).Code);
        var before = Directory.GetFiles(dir.Combine("1")).ToDictionary(f => f, File.ReadAllBytes);
        // The third image's final name is taken by a folder, so its rename fails as a full or broken disk would.
        string third = dir.Combine("1", "kl1_ddpm2_s0_000002.png");
        Directory.CreateDirectory(third);

        var (code, _, err) = Run(Args(4));
        Assert.Equal(KneeOnnxCli.BadInputExitCode, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("kl1_ddpm2_s0_000002.png", err);
        foreach (var (file, bytes) in before)
            Assert.Equal(bytes, File.ReadAllBytes(file));
        Assert.Empty(Directory.GetFiles(dir.Path, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories));
    }

    [Fact]
    public void OutputPathsWithSpacesAndUnicodeWork()
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("synthetic knees ü ñ 膝");
        var (code, _, err) = Run("generate", "--model", model.Path, "--provider", "cpu", "--grades", "4", "--per-grade", "1", "--steps", "2", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Single(Directory.GetFiles(Path.Combine(outDir, "4"), "*.png"));
    }

    [Fact]
    public void ModelsAskingForCustomOperatorsAreRefused()
    {
        // A node from a foreign operator domain would need a custom-op library; none is ever registered, so no code from
        // the model's author can run.
        using var dir = new TempDirectory();
        string path = model.WriteVariant("custom-op.onnx", m =>
        {
            m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.attacker", Version = 1 });
            var node = m.Graph.Node.First(n => n.OpType == "Sigmoid");
            node.OpType = "RunShellCommand";
            node.Domain = "com.attacker";
        });
        var (code, _, err) = Run("generate", "--model", path, "--provider", "cpu", "--out", dir.Combine("o"));
        Assert.Equal(KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("custom-op.onnx: not a loadable ONNX model", err);
        Assert.False(Directory.Exists(dir.Combine("o")));
    }
}
