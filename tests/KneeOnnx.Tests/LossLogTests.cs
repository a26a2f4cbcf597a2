using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests;

public class LossLogTests
{
    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [Fact]
    public void EachRowIsInTheFileAsSoonAsItsStepIsLogged()
    {
        using var dir = new TempDirectory();
        using var log = new LossLog(dir.Path, resumeStep: 0);
        log.Append(new LossLog.Row(1, 0.25, 1e-4, 30, 15));
        log.Append(new LossLog.Row(2, 0.125, 1e-4, 31, 30));

        // Another reader (a plot, a tail) while the run still holds the file open.
        var lines = ReadShared(log.Path).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(LossLog.Header, lines[0]);
        Assert.Equal(["1,0.25,0.0001,30.00,15.0", "2,0.125,0.0001,31.00,30.0"], lines[1..]);
    }

    [Fact]
    public void ResumingCutsTheRowsTheCheckpointDoesNotCover()
    {
        using var dir = new TempDirectory();
        using (var log = new LossLog(dir.Path, resumeStep: 0))
            for (int s = 1; s <= 5; s++) log.Append(new LossLog.Row(s, 1.0 / s, 1e-4, 30, 15 * s));

        using var resumed = new LossLog(dir.Path, resumeStep: 3);
        Assert.Equal([1L, 2L, 3L], resumed.Rows.Select(r => r.Step));
        Assert.Equal([1L, 2L, 3L], LossLog.Read(resumed.Path).Select(r => r.Step));
    }
}
