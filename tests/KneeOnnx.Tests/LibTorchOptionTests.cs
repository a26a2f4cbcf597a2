using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.LibTorch;

namespace KneeOnnx.Tests;

/// <summary>
/// --libtorch DIR / $KNEEONNX_LIBTORCH on every TorchSharp verb. Loading a real CUDA libtorch needs a GPU box (verified there
/// by hand, see README); here the refusals: each is one line naming the folder or file, exit code 2, nothing written.
/// </summary>
public class LibTorchOptionTests
{
    // Every verb that runs TorchSharp, with its required options; --out points where nothing may appear.
    private static IEnumerable<string[]> Verbs(string outDir) =>
    [
        ["train", "--out", outDir],
        ["sample", "--checkpoint", "x.ckpt", "--grades", "1", "--out", outDir],
        ["export", "--checkpoint", "x.ckpt", "--out", Path.Combine(outDir, "m.onnx")],
        ["evaluate", "--out", outDir],
        ["train-classifier", "--data", "d", "--out", Path.Combine(outDir, "c.kcls")],
        ["augment-benefit", "--data", "d", "--generated", "g", "--out", outDir],
        ["bench", "--out", outDir],
    ];

    [Fact]
    public void AMissingFolderIsRefusedByEveryTorchVerb()
    {
        using var dir = new TempDirectory();
        string missing = dir.Combine("no-such-torch", "lib");
        foreach (var verb in Verbs(dir.Combine("out")))
        {
            var (code, _, err) = InProcessCli.Train([.. verb, "--libtorch", missing]);
            Assert.Equal(2, code);
            Assert.StartsWith($"error: {missing}: --libtorch folder not found", OneLine(err));
            Assert.False(Directory.Exists(dir.Combine("out")), $"{verb[0]} wrote output");
        }
    }

    [Fact]
    public void AFolderWithoutLibtorchCudaIsRefused()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("libtorch_cpu.so"), "");
        var (code, _, err) = InProcessCli.Train("export", "--checkpoint", "x.ckpt", "--out", dir.Combine("m.onnx"), "--libtorch", dir.Path);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {dir.Path}: no libtorch_cuda.so in this --libtorch folder", OneLine(err));
    }

    [Fact]
    public void TheEnvironmentVariableIsUsedWhenTheOptionIsAbsentAndABrokenLibraryIsNamed()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.Combine("libtorch_cuda.so"), [1, 2, 3, 4]); // not an ELF file: dlopen refuses it, nothing is loaded
        Environment.SetEnvironmentVariable(LibTorchLoader.EnvironmentVariable, dir.Path);
        try
        {
            var (code, _, err) = InProcessCli.Train("sample", "--checkpoint", "x.ckpt", "--grades", "1", "--out", dir.Combine("out"));
            Assert.Equal(2, code);
            Assert.StartsWith($"error: {dir.Combine("libtorch_cuda.so")}: cannot be loaded (", OneLine(err));
            Assert.False(Directory.Exists(dir.Combine("out")));
        }
        finally
        {
            Environment.SetEnvironmentVariable(LibTorchLoader.EnvironmentVariable, null);
        }
    }

    [Fact]
    public void TheVersionIsReadFromPyTorchsVersionFile()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("torch", "lib"));
        // torch/version.py as a PyTorch 2.11 CUDA 13 wheel writes it.
        File.WriteAllText(dir.Combine("torch", "version.py"), """
            from typing import Optional

            __all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip', 'xpu']
            __version__ = '2.11.0+cu130'
            debug = False
            cuda: Optional[str] = '13.0'
            git_version = '0123456789abcdef'
            hip: Optional[str] = None
            xpu: Optional[str] = None
            """);
        Assert.Equal("PyTorch 2.11.0+cu130 (CUDA 13.0)", LibTorchLoader.Version(dir.Combine("torch", "lib")));

        // A plain libtorch download has libtorch/build-version beside libtorch/lib.
        using var plain = new TempDirectory();
        Directory.CreateDirectory(plain.Combine("lib"));
        File.WriteAllText(plain.Combine("build-version"), "2.10.0+cu128\n");
        Assert.Equal("libtorch 2.10.0+cu128", LibTorchLoader.Version(plain.Combine("lib")));
    }

    private static string OneLine(string err)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        return lines[0].TrimEnd('\r');
    }
}
