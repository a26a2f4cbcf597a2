using KneeOnnx.IO;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

public class AtomicFileTests
{
    [Fact]
    public void FailedWriteKeepsTheOldContentAndLeavesNoTemporary()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("a.txt");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("new new new"u8);
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void SuccessfulWriteReplacesTheContent()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("a.txt");
        AtomicFile.WriteAllText(path, "old");
        AtomicFile.WriteAllText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
    }
}

public class StaleTemporaryTests
{
    [Fact]
    public void TemporaryNamesMapBackToTheirTarget()
    {
        Assert.Equal("kl2_ddim4_s9_000002.png", AtomicFile.TargetOf(".kl2_ddim4_s9_000002.png.123.abc.partial"));
        Assert.Equal("checkpoint.ckpt", AtomicFile.TargetOf(".checkpoint.ckpt.9.0f0f.partial"));
        Assert.Null(AtomicFile.TargetOf("image.png"));
        Assert.Null(AtomicFile.TargetOf(".partial"));
    }

    [Fact]
    public void OnlyTheCallersOwnTemporariesAreRemoved()
    {
        using var dir = new KneeOnnx.Tests.Fixtures.TempDirectory();
        File.WriteAllText(dir.Combine(".mine.png.1.a.partial"), "x");
        File.WriteAllText(dir.Combine(".theirs.png.2.b.partial"), "x");
        File.WriteAllText(dir.Combine("done.png"), "x");
        Assert.Equal(1, AtomicFile.RemoveStaleTemporaries(dir.Path, name => name == "mine.png"));
        Assert.True(File.Exists(dir.Combine(".theirs.png.2.b.partial")));
        Assert.True(File.Exists(dir.Combine("done.png")));
        Assert.Equal(1, AtomicFile.RemoveStaleTemporaries(dir.Path));
    }
}
