using KneeOnnx.Cli;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>Which model a command uses when none is named: the shipped folder, or the single file of older layouts.</summary>
public class DefaultModelTests
{
    [Fact]
    public void TheModelFolderIsFoundFirstThenASingleFileThenAnError()
    {
        using var dir = new TempDirectory();
        string folderRoot = dir.Combine("a"), fileRoot = dir.Combine("b"), bothRoot = dir.Combine("c"), emptyRoot = dir.Combine("d");
        foreach (var root in new[] { folderRoot, bothRoot })
        {
            Directory.CreateDirectory(Path.Combine(root, "models", "kneeonnx-default", "unet"));
            File.WriteAllText(Path.Combine(root, "models", "kneeonnx-default", "unet", "model.onnx"), "x");
        }
        foreach (var root in new[] { fileRoot, bothRoot })
        {
            Directory.CreateDirectory(Path.Combine(root, "models"));
            File.WriteAllText(Path.Combine(root, "models", "kneeonnx-default.onnx"), "x");
        }
        Directory.CreateDirectory(Path.Combine(emptyRoot, "models", "kneeonnx-default")); // a folder without its U-Net is no model

        Assert.Equal(Path.Combine(folderRoot, "models", "kneeonnx-default"), DefaultModel.Locate([folderRoot]));
        Assert.Equal(Path.Combine(fileRoot, "models", "kneeonnx-default.onnx"), DefaultModel.Locate([fileRoot]));
        Assert.Equal(Path.Combine(bothRoot, "models", "kneeonnx-default"), DefaultModel.Locate([bothRoot]));
        Assert.Equal(Path.Combine(fileRoot, "models", "kneeonnx-default.onnx"), DefaultModel.Locate([emptyRoot, fileRoot]));
        var none = Assert.Throws<ArgumentException>(() => DefaultModel.Locate([emptyRoot]));
        Assert.Contains("models/kneeonnx-default/", none.Message);
        Assert.Contains("KNEEONNX_MODEL", none.Message);
    }

    /// <summary>From the test binaries, the search reaches the repository's own models/ and finds the shipped folder.</summary>
    [Fact]
    public void FromTheProgramTheShippedFolderIsTheDefault()
    {
        string found = DefaultModel.Locate(Ancestors(AppContext.BaseDirectory));
        Assert.Equal(ShippedModelTests.DefaultFolder(), found);
    }

    private static IEnumerable<string> Ancestors(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent) yield return dir.FullName;
    }
}
