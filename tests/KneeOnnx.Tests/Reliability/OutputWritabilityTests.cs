using System.Runtime.InteropServices;
using KneeOnnx.Tests.Fixtures;
using Xunit.Abstractions;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// Every output's place is checked for writability before any work: a run or report folder that cannot be made used
/// to be found only after the training or generation was done. Tests run as root here, where permission bits do not
/// stop a write, so the cases put the output under a regular file or in /proc; the permission case runs only for
/// other users. The inputs are small stand-ins (the check comes before any is read); each refusal names the option
/// and the folder in one line and leaves every name and byte as it was.
/// </summary>
public class OutputWritabilityTests(ITestOutputHelper log)
{
    private static readonly byte[] CheckpointBytes = [.. "KNEECKPT"u8, 1, 2, 3, 4];
    private static readonly byte[] OnnxBytes = [0x08, 0x07, 5, 5, 5];

    private sealed record Case(string Cli, string[] Args, string Expected, Action<TempDirectory> Setup);

    private static void Write(TempDirectory dir, string relative, byte[] bytes)
    {
        string path = dir.Combine(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>A data root with train and val splits, and the regular file "f" that the outputs are put under.</summary>
    private static void DataAndAFile(TempDirectory dir)
    {
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 1, side: 32, split: "train");
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 1, side: 32, split: "val");
        Write(dir, "f", "a file"u8.ToArray());
    }

    private const string UnderFile = "cannot be created: {0}/f is a file, not a folder";

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["train --out under a file"] = new("train", ["train", "--data", "{0}/data", "--preset", "tiny", "--steps", "2", "--out", "{0}/f/run"], "--out " + UnderFile, DataAndAFile),
        ["train --out in /proc"] = new("train", ["train", "--data", "{0}/data", "--preset", "tiny", "--steps", "2", "--out", "/proc/kneeonnx-run"],
            "/proc/kneeonnx-run: --out cannot be written: /proc accepts no new files", DataAndAFile),
        ["train-autoencoder --out under a file"] = new("train", ["train-autoencoder", "--data", "{0}/data", "--preset", "kl-tiny", "--crop", "32", "--steps", "2", "--out", "{0}/f/ae"],
            "--out " + UnderFile, DataAndAFile),
        ["train-classifier --out under a file"] = new("train", ["train-classifier", "--data", "{0}/data", "--epochs", "1", "--out", "{0}/f/c.kcls"],
            "--out " + UnderFile, DataAndAFile),
        ["export --out under a file"] = new("train", ["export", "--checkpoint", "{0}/c.ckpt", "--out", "{0}/f/m.onnx"], "--out " + UnderFile,
            d => { DataAndAFile(d); Write(d, "c.ckpt", CheckpointBytes); }),
        ["export --out in /proc"] = new("train", ["export", "--checkpoint", "{0}/c.ckpt", "--out", "/proc/kneeonnx.onnx"],
            "/proc/kneeonnx.onnx: --out cannot be written: /proc accepts no new files", d => Write(d, "c.ckpt", CheckpointBytes)),
        ["sample --out under a file"] = new("train", ["sample", "--checkpoint", "{0}/c.ckpt", "--out", "{0}/f/s"], "--out " + UnderFile,
            d => { DataAndAFile(d); Write(d, "c.ckpt", CheckpointBytes); }),
        ["evaluate --out under a file"] = new("train", ["evaluate", "--generated", "{0}/data/val", "--real", "{0}/data/val", "--train", "{0}/data/train", "--out", "{0}/f/report"],
            "--out " + UnderFile, DataAndAFile),
        ["evaluate --model --out in /proc"] = new("train", ["evaluate", "--model", "{0}/m.onnx", "--data", "{0}/data", "--out", "/proc/kneeonnx-report"],
            "/proc/kneeonnx-report: --out cannot be written: /proc accepts no new files", d => { DataAndAFile(d); Write(d, "m.onnx", OnnxBytes); }),
        ["augment-benefit --out under a file"] = new("train", ["augment-benefit", "--data", "{0}/data", "--generated", "{0}/data/val", "--out", "{0}/f/r"],
            "--out " + UnderFile, DataAndAFile),
        ["bench --out under a file"] = new("train", ["bench", "--model", "{0}/m.onnx", "--out", "{0}/f/b"], "--out " + UnderFile,
            d => { DataAndAFile(d); Write(d, "m.onnx", OnnxBytes); }),
        ["generate --out under a file"] = new("gen", ["generate", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/f/o"], "--out " + UnderFile,
            d => { DataAndAFile(d); Write(d, "m.onnx", OnnxBytes); }),
        ["generate --sheet under a file"] = new("gen", ["generate", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/o", "--sheet", "{0}/f/s.png"],
            "--sheet " + UnderFile, d => { DataAndAFile(d); Write(d, "m.onnx", OnnxBytes); }),
        ["grid --out under a file"] = new("gen", ["grid", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/f/g.png"], "--out " + UnderFile,
            d => { DataAndAFile(d); Write(d, "m.onnx", OnnxBytes); }),
    };

    public static TheoryData<string> Names() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void AnOutputThatCannotBeWrittenIsRefusedBeforeAnyWork(string name)
    {
        using var dir = new TempDirectory();
        var c = Cases[name];
        c.Setup(dir);
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, c.Cli, c.Args, c.Expected);
    }

    [DllImport("libc")]
    private static extern uint geteuid();

    [Fact]
    public void AFolderWithoutWritePermissionIsRefused()
    {
        if (!OperatingSystem.IsLinux()) return;
        if (geteuid() == 0)
        {
            log.WriteLine("skipped: running as root, which permission bits do not stop (the cases under a file and in /proc cover the check)");
            return;
        }
        using var dir = new TempDirectory();
        DataAndAFile(dir);
        Directory.CreateDirectory(dir.Combine("locked"));
        File.SetUnixFileMode(dir.Combine("locked"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var result = InProcessCli.Train("train", "--data", dir.Combine("data"), "--preset", "tiny", "--steps", "2", "--out", dir.Combine("locked", "run"));
            Refusal.Check(result, $"--out cannot be written: {dir.Combine("locked")} is not writable (permission denied)");
            Assert.Empty(Directory.GetFileSystemEntries(dir.Combine("locked")));
        }
        finally
        {
            File.SetUnixFileMode(dir.Combine("locked"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
