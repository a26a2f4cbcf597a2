using System.Runtime.InteropServices;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// A named pipe or a device among a data folder's <c>&lt;grade&gt;/*.png</c> hangs no verb that reads the data: it is
/// refused in one line naming the file before any is read (or, under --skip-unreadable, left out and counted). The
/// special files are made in a scratch folder; each refusal leaves them, and everything else, as it was.
/// </summary>
public class SpecialDataFileTests
{
    private static readonly byte[] OnnxBytes = [0x08, 0x07, 5, 5, 5];

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int mknod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode, ulong device);

    /// <summary>data/{train,val}/&lt;grade&gt;/*.png of 32² knees, and a named pipe called x.png in data/<paramref name="split"/>/2.</summary>
    private static string DataWithAPipe(TempDirectory dir, string split)
    {
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32, split: "train");
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32, split: "val");
        string pipe = dir.Combine("data", split, "2", "x.png");
        Assert.True(mkfifo(pipe, 0x1B6) == 0, $"mkfifo failed ({Marshal.GetLastPInvokeError()})");
        return pipe;
    }

    private static InProcessCli.Result Within(Func<InProcessCli.Result> command)
    {
        var run = Task.Run(command);
        Assert.True(run.Wait(TimeSpan.FromMinutes(3)), "the command hung on a special file among the images");
        return run.Result;
    }

    /// <summary>Runs a command that must be refused naming <paramref name="expected"/>, and checks that no name changed under the scratch folder.</summary>
    private static void Refused(TempDirectory dir, Func<InProcessCli.Result> command, string expected)
    {
        var names = Refusal.Tree(dir.Path);
        Refusal.Check(Within(command), expected);
        Assert.Equal(names, Refusal.Tree(dir.Path));
    }

    public static TheoryData<string, string[]> Readers() => new()
    {
        { "train", ["train", "--data", "{0}/data", "--preset", "tiny", "--steps", "2", "--out", "{0}/run"] },
        { "train", ["train-autoencoder", "--data", "{0}/data", "--preset", "kl-tiny", "--crop", "32", "--steps", "2", "--out", "{0}/ae"] },
        { "train", ["train-classifier", "--data", "{0}/data", "--epochs", "1", "--out", "{0}/c.kcls"] },
        { "val", ["train-classifier", "--data", "{0}/data", "--epochs", "1", "--out", "{0}/c.kcls"] },
        { "val", ["evaluate", "--generated", "{0}/data/val", "--real", "{0}/data/train", "--train", "{0}/data/train", "--out", "{0}/report"] },
        { "train", ["evaluate", "--generated", "{0}/data/val", "--real", "{0}/data/val", "--train", "{0}/data/train", "--out", "{0}/report"] },
        { "val", ["augment-benefit", "--data", "{0}/data", "--generated", "{0}/data/val", "--epochs", "1", "--out", "{0}/report"] },
        // With --model, before anything is generated: the model here is a stand-in that would fail to load.
        { "val", ["evaluate", "--model", "{0}/m.onnx", "--data", "{0}/data", "--per-grade", "2", "--out", "{0}/report"] },
    };

    [Theory]
    [MemberData(nameof(Readers))]
    public void APipeAmongTheImagesIsRefusedNamingIt(string split, string[] args)
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        string pipe = DataWithAPipe(dir, split);
        File.WriteAllBytes(dir.Combine("m.onnx"), OnnxBytes);
        Refused(dir, () => InProcessCli.Train([.. args.Select(a => a.Replace("{0}", dir.Path))]), $"{pipe}: is a named pipe, not a regular file");
    }

    [Fact]
    public void TrainingSaysSkipUnreadableLeavesItOut()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        string pipe = DataWithAPipe(dir, "train");
        Refused(dir, () => InProcessCli.Train("train", "--data", dir.Combine("data"), "--preset", "tiny", "--steps", "2", "--out", dir.Combine("run")),
            $"{pipe}: is a named pipe, not a regular file (--skip-unreadable leaves such files out)");
    }

    [Fact]
    public void UnderSkipUnreadableThePipeIsLeftOutAndCounted()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        DataWithAPipe(dir, "train");
        var result = Within(() => InProcessCli.Train("train", "--data", dir.Combine("data"), "--preset", "tiny", "--steps", "1", "--threads", "1",
            "--skip-unreadable", "--out", dir.Combine("run")));
        Assert.True(result.Code == 0, result.Err);
        Assert.Contains("data: 10 images", result.Out);
        Assert.Contains("1 unreadable skipped", result.Out);
    }

    [Fact]
    public void ADeviceAmongTheImagesIsRefusedNamingIt()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32, split: "train");
        string device = dir.Combine("data", "train", "4", "zero.png");
        if (mknod(device, 0x2000 | 0x1B6, (1UL << 8) | 5) != 0) return; // a device node (1:5, like /dev/zero) needs root
        Refused(dir, () => InProcessCli.Train("train", "--data", dir.Combine("data"), "--preset", "tiny", "--steps", "2", "--out", dir.Combine("run")),
            $"{device}: is a device, not a regular file");
    }
}
