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
