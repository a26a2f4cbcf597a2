using KneeOnnx.IO;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>What a failed command takes back: its own empty output folders and the missing parents it created for them.</summary>
public class NewFoldersTests
{
    [Fact]
    public void AFailedCommandTakesBackItsEmptyOutputAndTheParentsItCreated()
    {
        using var dir = new TempDirectory();
        string output = dir.Combine("sets", "ddpm1000-g1");
        var created = NewFolders.Before([output]);
        Directory.CreateDirectory(Path.Combine(output, "1"));
        created.RemoveEmpty();
        Assert.False(Directory.Exists(dir.Combine("sets")));
    }

    /// <summary>
    /// Two commands started side by side under a parent neither found (as five `sample` processes on a GPU box did): the
    /// one that fails leaves the other's folders, empty or not, and so the parent they share.
    /// </summary>
    [Fact]
    public void AFailedCommandLeavesASiblingCommandsFoldersUnderTheParentBothCreated()
    {
        using var dir = new TempDirectory();
        string failing = dir.Combine("sets", "ddpm1000-g1"), running = dir.Combine("sets", "dpmpp3m20");
        var failingCreated = NewFolders.Before([failing]);
        NewFolders.Before([running]);
        Directory.CreateDirectory(Path.Combine(failing, "1"));
        Directory.CreateDirectory(Path.Combine(running, "0"));
        Directory.CreateDirectory(Path.Combine(running, "1")); // empty: its first image is not written yet

        failingCreated.RemoveEmpty();

        Assert.False(Directory.Exists(failing));
        Assert.True(Directory.Exists(Path.Combine(running, "1")));
        Assert.True(Directory.Exists(Path.Combine(running, "0")));
    }

    [Fact]
    public void AnOutputThatHoldsAFileStaysWithItsParents()
    {
        using var dir = new TempDirectory();
        string output = dir.Combine("a", "b");
        var created = NewFolders.Before([output]);
        Directory.CreateDirectory(Path.Combine(output, "0"));
        File.WriteAllText(Path.Combine(output, "0", "x.png"), "x");
        created.RemoveEmpty();
        Assert.True(File.Exists(Path.Combine(output, "0", "x.png")));
    }
}

/// <summary>Which paths kneeonnx-gen may take back when it fails.</summary>
public class GenerateOutputsTakenBackTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    [Fact]
    public void AWholeRequestMayTakeBackItsOutputFolder()
    {
        var o = new KneeOnnx.Cli.GenerateOptions { Out = "gen", Sheet = "sheet.png" };
        Assert.Equal(["gen", "sheet.png"], KneeOnnx.Cli.KneeOnnxCli.OutputsOf(o, NoEnvironment));
    }

    /// <summary>Shards share --out; one that fails leaves it, whether its part came from --shard or a Slurm array.</summary>
    [Fact]
    public void AShardNeverTakesBackTheOutputFolderItShares()
    {
        var explicitShard = new KneeOnnx.Cli.GenerateOptions { Out = "gen", Shard = "1/4" };
        Assert.DoesNotContain("gen", KneeOnnx.Cli.KneeOnnxCli.OutputsOf(explicitShard, NoEnvironment));
        var slurm = new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "2", ["SLURM_ARRAY_TASK_COUNT"] = "4" };
        var arrayTask = new KneeOnnx.Cli.GenerateOptions { Out = "gen" };
        Assert.DoesNotContain("gen", KneeOnnx.Cli.KneeOnnxCli.OutputsOf(arrayTask, k => slurm.GetValueOrDefault(k)));
        Assert.Contains("gen", KneeOnnx.Cli.KneeOnnxCli.OutputsOf(new KneeOnnx.Cli.GenerateOptions { Out = "gen", Shard = "0/1" }, NoEnvironment));
    }
}
