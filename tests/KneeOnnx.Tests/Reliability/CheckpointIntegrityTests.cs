using System.Text;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using static TorchSharp.torch;

namespace KneeOnnx.Tests.Reliability;

/// <summary>One whole tiny checkpoint, written once for the damage tests.</summary>
public sealed class WholeCheckpoint : IDisposable
{
    private readonly TempDirectory _dir = new();
    public byte[] Bytes { get; }

    public WholeCheckpoint()
    {
        var config = Presets.Get(Presets.Tiny);
        manual_seed(1);
        using var model = new UNet(config);
        using var opt = optim.AdamW(model.parameters());
        var state = new TrainState
        {
            Step = 2, ElapsedSeconds = 1, DatasetSha256 = new string('a', 64), Model = config,
            Train = new TrainConfig { Data = "d", Preset = Presets.Tiny, Steps = 4 },
        };
        string path = _dir.Combine(Checkpoint.FileName);
        Checkpoint.Write(path, state, model, model, opt);
        Bytes = File.ReadAllBytes(path);
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// A checkpoint cut short or damaged anywhere is refused by every verb that reads one, in one line naming the file,
/// before anything is written: no export "succeeds" from half a file, no resume rewrites the run's config.
/// </summary>
public class CheckpointIntegrityTests(WholeCheckpoint whole) : IClassFixture<WholeCheckpoint>
{
    public static readonly string[] Damages =
        ["empty", "cut-in-magic", "cut-in-header", "cut-in-half", "last-byte-missing", "footer-missing", "byte-flipped-in-weights", "byte-flipped-in-header", "not-a-checkpoint"];

    private static byte[] Damage(byte[] good, string how)
    {
        byte[] Flip(int at)
        {
            var copy = (byte[])good.Clone();
            copy[at] ^= 0x5A;
            return copy;
        }
        return how switch
        {
            "empty" => [],
            "cut-in-magic" => good[..5],
            "cut-in-header" => good[..200],
            "cut-in-half" => good[..(good.Length / 2)],
            "last-byte-missing" => good[..^1],
            "footer-missing" => good[..^CheckpointFooter.Size],
            "byte-flipped-in-weights" => Flip(good.Length / 2),
            "byte-flipped-in-header" => Flip(40),
            "not-a-checkpoint" => Enumerable.Range(0, 5000).Select(i => (byte)(i * 7919 % 251)).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(how)),
        };
    }

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var verb in new[] { "export", "sample", "train --resume" })
            foreach (var damage in Damages)
                data.Add(verb, damage);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DamagedCheckpointsAreRefusedByEveryVerbThatReadsThem(string verb, string damage)
    {
        using var dir = new TempDirectory();
        string run = dir.Combine("run");
        Directory.CreateDirectory(run);
        string checkpoint = Path.Combine(run, Checkpoint.FileName);
        byte[] damaged = Damage(whole.Bytes, damage);
        File.WriteAllBytes(checkpoint, damaged);
        string config = Path.Combine(run, Trainer.ConfigFileName);
        File.WriteAllText(config, "{\"earlier\": true}");
        var before = Refusal.Tree(dir.Path);

        var result = verb switch
        {
            "export" => InProcessCli.Train("export", "--checkpoint", run, "--out", dir.Combine("m.onnx")),
            "sample" => InProcessCli.Train("sample", "--checkpoint", checkpoint, "--per-grade", "1", "--threads", "1", "--out", dir.Combine("s")),
            _ => InProcessCli.Train("train", "--resume", "--out", run, "--threads", "1"),
        };

        Refusal.Check(result, checkpoint);
        Assert.Equal(before, Refusal.Tree(dir.Path));
        Assert.Equal(damaged, File.ReadAllBytes(checkpoint));
        Assert.Equal("{\"earlier\": true}", File.ReadAllText(config));
    }

    [Fact]
    public void AWholeCheckpointEndsInAFooterThatMatches()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("c.ckpt");
        File.WriteAllBytes(path, whole.Bytes);
        Assert.Equal("KNEESUM1", Encoding.ASCII.GetString(whole.Bytes, whole.Bytes.Length - CheckpointFooter.Size, 8));
        Assert.Equal(Checkpoint.FormatVersion, Checkpoint.ReadState(path).FormatVersion);
        var (_, model) = Checkpoint.LoadModel(path);
        model.Dispose();
    }

    [Fact]
    public void FormatOneCheckpointsWithoutAFooterAreStillRead()
    {
        using var dir = new TempDirectory();
        // A format-1 file is a format-2 file without its footer and with version 1 in its header (same length).
        string text = Encoding.Latin1.GetString(whole.Bytes[..^CheckpointFooter.Size]);
        string v1 = text.Replace("\"FormatVersion\": 2", "\"FormatVersion\": 1");
        Assert.NotEqual(text, v1);
        string path = dir.Combine("old.ckpt");
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(v1));
        Assert.Equal(Checkpoint.UncheckedFormatVersion, Checkpoint.ReadState(path).FormatVersion);
        var (state, model) = Checkpoint.LoadModel(path);
        model.Dispose();
        Assert.Equal(2, state.Step);
    }
}
