using System.Runtime.InteropServices;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Validation;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// Outputs are regular files or nothing, and no input is opened if it is a pipe or a device. Each case runs against a
/// named pipe or a device node made in a scratch folder (never the system's own /dev/null), must be refused in one line
/// naming the option and what the path is, must not hang, and must leave the special file as it was.
/// </summary>
public class SpecialFileTests
{
    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int mknod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode, ulong device);

    private static string Fifo(TempDirectory dir, string name)
    {
        string path = dir.Combine(name);
        Assert.True(mkfifo(path, 0x1B6) == 0, $"mkfifo failed ({Marshal.GetLastPInvokeError()})");
        return path;
    }

    /// <summary>A character device like /dev/null (1:3) in the scratch folder; null when not allowed (not root).</summary>
    private static string? NullDevice(TempDirectory dir, string name)
    {
        string path = dir.Combine(name);
        return mknod(path, 0x2000 | 0x1B6, (1UL << 8) | 3) == 0 ? path : null;
    }

    private static InProcessCli.Result Within(Func<InProcessCli.Result> command)
    {
        var run = Task.Run(command);
        Assert.True(run.Wait(TimeSpan.FromMinutes(2)), "the command hung on a special file");
        return run.Result;
    }

    [Fact]
    public void FileTypesAreToldApart()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("a.txt"), "x");
        Assert.Equal(FileType.Regular, FileTypes.Of(dir.Combine("a.txt")));
        Assert.Equal(FileType.Directory, FileTypes.Of(dir.Path));
        Assert.Equal(FileType.Missing, FileTypes.Of(dir.Combine("none")));
        Assert.Equal(FileType.Fifo, FileTypes.Of(Fifo(dir, "pipe")));
        Assert.Equal(FileType.Device, FileTypes.Of("/dev/null"));
    }

    [Fact]
    public void ExportOntoAPipeOrADeviceIsRefusedAndLeavesIt()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        string checkpoint = TinyRuns.Train(dir.Combine("run"), steps: 1);
        string pipe = Fifo(dir, "model.onnx");
        Refusal.Check(Within(() => InProcessCli.Train("export", "--checkpoint", checkpoint, "--out", pipe)), "--out exists and is a named pipe");
        Assert.Equal(FileType.Fifo, FileTypes.Of(pipe));
        if (NullDevice(dir, "null.onnx") is { } device)
        {
            Refusal.Check(Within(() => InProcessCli.Train("export", "--checkpoint", checkpoint, "--out", device)), "--out exists and is a device");
            Assert.Equal(FileType.Device, FileTypes.Of(device));
        }
    }

    [Fact]
    public void APipeAsConfigOrCheckpointIsRefusedWithoutOpeningIt()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        string config = Fifo(dir, "config.json");
        Refusal.Check(Within(() => InProcessCli.Train("train", "--data", dir.Combine("data"), "--config", config, "--out", dir.Combine("run"))), "--config is a named pipe");
        string checkpoint = Fifo(dir, "c.ckpt");
        Refusal.Check(Within(() => InProcessCli.Train("export", "--checkpoint", checkpoint, "--out", dir.Combine("m.onnx"))), "is a named pipe");
        Assert.False(Directory.Exists(dir.Combine("run")));
        Assert.False(File.Exists(dir.Combine("m.onnx")));
    }
}
