using KneeOnnx.IO;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

public class CheckpointTests
{
    private static TrainState State(long step, UNetConfig model) => new()
    {
        Step = step, ElapsedSeconds = 1, DatasetSha256 = "abc", Train = new TrainConfig { Data = "d", Preset = model.Preset }, Model = model,
    };

    [Fact]
    public void InterruptedWriteLeavesThePreviousCheckpointLoadable()
    {
        using var dir = new TempDirectory();
        var config = Presets.Get(Presets.Tiny);
        manual_seed(1);
        using var first = new UNet(config);
        using var second = new UNet(config);
        using var opt = optim.AdamW(first.parameters());
        string path = dir.Combine(Checkpoint.FileName);
        Checkpoint.Write(path, State(5, config), first, first, opt);
        long sizeBefore = new FileInfo(path).Length;

        // The second write dies after its header, as a kill or a full disk would stop it.
        Assert.Throws<IOException>(() => Checkpoint.Write(path, State(9, config), second, second, opt,
            afterHeader: _ => throw new IOException("simulated: no space left on device")));

        Assert.Equal(sizeBefore, new FileInfo(path).Length);
        Assert.Empty(Directory.GetFiles(dir.Path, "*" + AtomicFile.TempSuffix));
        var (state, loaded) = Checkpoint.LoadModel(path);
        using var _ = loaded;
        Assert.Equal(5, state.Step);
        var expected = first.state_dict();
        foreach (var (name, tensor) in loaded.state_dict())
            Assert.True(Tensors.Identical(tensor, expected[name]), $"{name} differs from the first checkpoint");
    }

    [Fact]
    public void RawAndEmaWeightsAreKeptApart()
    {
        using var dir = new TempDirectory();
        var config = Presets.Get(Presets.Tiny);
        manual_seed(1);
        using var ema = new UNet(config);
        manual_seed(2);
        using var live = new UNet(config);
        using var opt = optim.AdamW(live.parameters());
        string path = dir.Combine("c.ckpt");
        Checkpoint.Write(path, State(1, config), ema, live, opt);
        var (_, loadedEma) = Checkpoint.LoadModel(path);
        var (_, loadedRaw) = Checkpoint.LoadModel(path, raw: true);
        using (loadedEma)
        using (loadedRaw)
        {
            Assert.True(Tensors.Identical(loadedEma.state_dict()["conv_in.weight"], ema.state_dict()["conv_in.weight"]));
            Assert.True(Tensors.Identical(loadedRaw.state_dict()["conv_in.weight"], live.state_dict()["conv_in.weight"]));
        }
    }

    [Fact]
    public void NonCheckpointFilesAreRejectedByName()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("x.ckpt");
        File.WriteAllText(path, "hello, not a checkpoint");
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadState(path));
        Assert.Contains(path, e.Message);
        File.WriteAllBytes(path, "KNEECKPT"u8.ToArray());
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => Checkpoint.ReadState(path)).Message);
    }
}
