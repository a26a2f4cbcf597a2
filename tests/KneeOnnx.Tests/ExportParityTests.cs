using Google.Protobuf;
using KneeOnnx.Generation;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

public class ExportParityTests(ITestOutputHelper log)
{
    private static TrainState StateFor(UNetConfig config) => new()
    {
        Step = 0, ElapsedSeconds = 0, DatasetSha256 = "none", Model = config,
        Train = new TrainConfig { Data = "memory", Preset = config.Preset, Conditioning = config.Conditioning },
    };

    public static TheoryData<string, string> CiPresetsAndModes()
    {
        var data = new TheoryData<string, string>();
        foreach (var preset in new[] { Presets.Tiny, Presets.Small })
            foreach (var mode in Conditioning.All)
                data.Add(preset, mode);
        return data;
    }

    [Theory]
    [MemberData(nameof(CiPresetsAndModes))]
    public void RandomlyInitialisedModelsMatchTorchSharp(string preset, string mode)
    {
        var config = Presets.Get(preset, mode, nullGrade: mode != Conditioning.None);
        manual_seed(21);
        using var model = new UNet(config);
        var proto = OnnxExporter.Build(model, StateFor(config), "ema");
        var check = ExportSelfCheck.Run(proto.ToByteArray(), model, 1000);
        log.WriteLine($"{preset}/{mode}: max abs diff {check.MaxAbsDiff:E2} over {check.Cases} cases");
        Assert.Equal(6, check.Cases);
        Assert.InRange(check.MaxAbsDiff, 0, 1e-4);
    }

    [Theory]
    [InlineData(Presets.Tiny, Conditioning.Add)]
    [InlineData(Presets.Tiny, Conditioning.Concat)]
    [InlineData(Presets.Tiny, Conditioning.None)]
    [InlineData(Presets.Small, Conditioning.Add)]
    public void BrieflyTrainedModelsMatchTorchSharp(string preset, string mode)
    {
        using var dir = new TempDirectory();
        string checkpoint = TinyRuns.Train(dir.Path, preset, mode, steps: 3);
        var (state, model) = Checkpoint.LoadModel(checkpoint);
        using var _ = model;
        var check = ExportSelfCheck.Run(OnnxExporter.Build(model, state, "ema").ToByteArray(), model, state.Train.TrainTimesteps);
        log.WriteLine($"{preset}/{mode} after 3 steps: max abs diff {check.MaxAbsDiff:E2}");
        Assert.InRange(check.MaxAbsDiff, 0, 1e-4);
    }

    [Fact]
    public void SelfCheckNoticesAWrongGraph()
    {
        var config = Presets.Get(Presets.Tiny);
        manual_seed(5);
        using var model = new UNet(config);
        var proto = OnnxExporter.Build(model, StateFor(config), "ema");
        var weight = proto.Graph.Initializer.First(i => i.Name == "conv_out.weight");
        var values = weight.RawData.ToByteArray();
        values[3] ^= 0x40; // flip the top exponent bit of one output-conv weight (little-endian float)
        weight.RawData = ByteString.CopyFrom(values);
        var check = ExportSelfCheck.Run(proto.ToByteArray(), model, 1000);
        Assert.True(check.MaxAbsDiff > 1e-4, $"self-check missed a corrupted weight (diff {check.MaxAbsDiff:E2})");
    }

    /// <summary>
    /// The whole reverse process through the library's one sampling loop, run twice: with ONNX Runtime on the exported
    /// file and with TorchSharp on the checkpoint's network (two independent implementations of the network, the same
    /// scheduler, noise and loop). DDPM over all T = 1000 steps, and DPM-Solver++ with guidance (its second- and
    /// third-order history, the SDE variant's fresh noise, and the null-grade branch), must end at the same images.
    /// </summary>
    [Theory]
    [InlineData("ddpm", 1000, 1.0)]
    [InlineData("dpm++2m", 20, 2.5)]
    [InlineData("dpm++3m", 20, 2.5)]
    [InlineData("dpm++2m-sde", 20, 2.5)]
    [InlineData("dpm++3m-sde", 20, 2.5)]
    public void WholeSamplingRunMatchesTorchSharp(string sampler, int steps, double guidance)
    {
        using var dir = new TempDirectory();
        string checkpoint = TinyRuns.Train(dir.Path, steps: 6);
        var (state, model) = Checkpoint.LoadModel(checkpoint);
        using var _ = model;
        string onnx = dir.Combine("tiny.onnx");
        File.WriteAllBytes(onnx, OnnxExporter.Build(model, state, "ema").ToByteArray());
        using var knee = KneeModel.Open(onnx, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var torch = new TorchNoisePredictor(model, TorchNoisePredictor.InfoFor(state, checkpoint));
        var settings = new SamplerSettings { Sampler = sampler, Steps = steps, Guidance = guidance };
        long[] indexes = [0, 1];

        using var ortGenerator = new ImageGenerator(knee);
        using var torchGenerator = new ImageGenerator(torch);
        var ort = ortGenerator.Generate(3, 17, indexes, settings);
        var reference = torchGenerator.Generate(3, 17, indexes, settings);

        double worst = ort.Select((v, i) => Math.Abs(v - reference[i])).Max();
        log.WriteLine($"{sampler}-{steps}, guidance {guidance}: max abs diff {worst:E2} (pixel range 2)");
        Assert.Equal(indexes.Length * model.Config.ImageSize * model.Config.ImageSize, reference.Length);
        Assert.InRange(worst, 0, 1e-3);
        Assert.True(reference.Any(v => Math.Abs(v) < 0.99), "the reference run saturated; the comparison would prove nothing");
    }
}
