using System.Text.Json;
using Google.Protobuf;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>TorchSharp → ONNX → TorchSharp must give back exactly the weights that went in, so training can continue from a shipped model.</summary>
public class OnnxImportTests
{
    [Theory]
    [InlineData(Presets.Tiny, Conditioning.Add)]
    [InlineData(Presets.Tiny, Conditioning.Concat)]
    [InlineData(Presets.Tiny, Conditioning.None)]
    [InlineData(Presets.Small, Conditioning.Add)]
    public void RoundTripRestoresEveryWeightBitForBit(string preset, string conditioning)
    {
        using var dir = new TempDirectory();
        string checkpoint = TinyRuns.Train(dir.Combine("run"), preset, conditioning, steps: 2);
        var (state, original) = Checkpoint.LoadModel(checkpoint);
        using var _ = original;
        string onnx = dir.Combine("model.onnx");
        File.WriteAllBytes(onnx, OnnxExporter.Build(original, state, "ema").ToByteArray());

        var (info, proto) = OnnxWeightImporter.Read(onnx);
        Assert.Equal(JsonSerializer.Serialize(state.Model), JsonSerializer.Serialize(info.Model));
        Assert.Equal(state.Step, info.TrainSteps);
        Assert.Equal(state.Train.TrainTimesteps, info.TrainTimesteps);
        manual_seed(99); // a different initialisation, so equality can only come from the import
        using var restored = new UNet(info.Model);
        OnnxWeightImporter.LoadInto(proto, restored, onnx);

        var expected = original.state_dict();
        var actual = restored.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, value) in expected)
            Assert.True(Tensors.Identical(value, actual[name]), $"{name} differs after the round trip");

        original.eval();
        restored.eval();
        using var x = randn(2, 1, info.Model.ImageSize, info.Model.ImageSize);
        using var t = tensor(new long[] { 3, 700 });
        using var g = tensor(new long[] { 1, 4 });
        using var noGrad = no_grad();
        Assert.True(Tensors.Identical(original.forward(x, t, g), restored.forward(x, t, g)));
    }

    [Fact]
    public void InitFromStartsTheRunFromTheFileWeightsAndRecordsTheirHash()
    {
        using var dir = new TempDirectory();
        var (state, source) = Checkpoint.LoadModel(TinyRuns.Train(dir.Combine("source"), steps: 3));
        using var _ = source;
        string onnx = dir.Combine("source.onnx");
        File.WriteAllBytes(onnx, OnnxExporter.Build(source, state, "ema").ToByteArray());

        var (images, grades) = SyntheticKnees.InMemory(2, 32);
        var log = new StringWriter();
        Trainer.Run(new TrainConfig { Data = "memory", Preset = Presets.Small, InitFrom = onnx, Steps = 10, BatchSize = 2, Seed = 5 },
            new TrainRunOptions
            {
                RunDirectory = dir.Combine("tuned"), Threads = 2, Device = "cpu", Output = log, StopAtStep = 0,
                Preloaded = KneeDataset.FromMemory(32, images, grades),
            });

        Assert.Contains("initialised from", log.ToString());
        var (tunedState, tuned) = Checkpoint.LoadModel(dir.Combine("tuned", Checkpoint.FileName));
        using var __ = tuned;
        Assert.Equal(Presets.Tiny, tunedState.Train.Preset); // the file, not the requested small preset, decides
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(onnx))), tunedState.Train.InitFromSha256);
        var expected = source.state_dict();
        foreach (var (name, value) in tuned.state_dict())
            Assert.True(Tensors.Identical(expected[name], value), $"{name} was not initialised from the file");

        // Its export counts the source's 3 steps as well as its own: train_steps is every step behind the weights.
        Assert.Equal(3, tunedState.Train.InitFromSteps);
        string tunedOnnx = dir.Combine("tuned.onnx");
        File.WriteAllBytes(tunedOnnx, OnnxExporter.Build(tuned, tunedState, "ema").ToByteArray());
        Assert.Equal(3 + tunedState.Step, OnnxWeightImporter.Read(tunedOnnx).Info.TrainSteps);
        // Its card tells both parts apart: the run's own steps and wall time, and the steps it inherited.
        var carded = InProcessCli.Train("card", "--model", tunedOnnx, "--run", dir.Combine("tuned"));
        Assert.True(carded.Code == 0, carded.Err);
        Assert.Contains($"{3 + tunedState.Step} steps in all: {tunedState.Step} of batch 2 in this run (", File.ReadAllText(Path.ChangeExtension(tunedOnnx, ".md")));
        Assert.Contains("continuing a model of 3 steps (`--init-from`;", File.ReadAllText(Path.ChangeExtension(tunedOnnx, ".md")));
    }

    [Fact]
    public void InitFromRejectsContradictionsAndForeignFilesInOneLine()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 1, side: 32);
        var (state, source) = Checkpoint.LoadModel(TinyRuns.Train(dir.Combine("source"), steps: 1));
        using var _ = source;
        string onnx = dir.Combine("source.onnx");
        var proto = OnnxExporter.Build(source, state, "ema");
        File.WriteAllBytes(onnx, proto.ToByteArray());
        string garbage = dir.Combine("garbage.onnx");
        File.WriteAllBytes(garbage, [1, 2, 3, 255, 0, 7]);
        proto.MetadataProps.Clear();
        string bare = dir.Combine("bare.onnx");
        File.WriteAllBytes(bare, proto.ToByteArray());

        (string[] Args, string Names)[] cases =
        [
            (["--init-from", onnx, "--preset", "tiny"], "--preset"),
            (["--init-from", onnx, "--resume"], "--resume"),
            (["--init-from", dir.Combine("missing.onnx")], "missing.onnx"),
            (["--init-from", garbage], "garbage.onnx"),
            (["--init-from", bare], "bare.onnx"),
        ];
        foreach (var (extra, names) in cases)
        {
            string run = dir.Combine("run-" + Guid.NewGuid().ToString("N"));
            var (code, _, err) = InProcessCli.Train(["train", "--data", dir.Combine("data"), "--out", run, "--steps", "1", "--batch", "1", "--threads", "2", .. extra]);
            Assert.Equal(2, code);
            Assert.Contains(names, err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.False(File.Exists(Path.Combine(run, Checkpoint.FileName)), $"{names}: a checkpoint was written");
        }
    }
}
