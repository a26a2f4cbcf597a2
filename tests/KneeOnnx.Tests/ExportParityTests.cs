using Google.Protobuf;
using KneeOnnx.Diffusion;
using KneeOnnx.Randomness;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Diffusion;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Training;
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
    /// The whole reverse process: the TorchSharp DDPM sampler and an ONNX Runtime loop over the exported file, fed the
    /// same starting and per-step noise, must end at the same images after all T = 1000 steps.
    /// </summary>
    [Fact]
    public void FullDdpmTrajectoryMatchesTorchSharp()
    {
        using var dir = new TempDirectory();
        string checkpoint = TinyRuns.Train(dir.Path, steps: 6);
        var (state, model) = Checkpoint.LoadModel(checkpoint);
        using var _ = model;
        var schedule = state.Train.CreateSchedule();
        const int grade = 3;
        const long seed = 17;
        long[] indexes = [0, 1];
        using var torchImages = new TorchDdpmSampler(model, schedule, CPU).Sample(grade, seed, indexes);

        var proto = OnnxExporter.Build(model, state, "ema");
        using var session = new InferenceSession(proto.ToByteArray());
        int side = model.Config.ImageSize, area = side * side, n = indexes.Length;
        var generators = indexes.Select(i => new TorchSharp.torch.Generator((ulong)SplitMix64.For(seed, grade, i).NextSeed())).ToArray();
        float[] NextNoise() => generators.SelectMany(g => randn([1, 1, side, side], generator: g).data<float>().ToArray()).ToArray();

        float[] x = NextNoise();
        long[] timestep = new long[n];
        long[] grades = Enumerable.Repeat((long)grade, n).ToArray();
        for (int t = schedule.TrainTimesteps - 1; t >= 0; t--)
        {
            Array.Fill(timestep, t);
            using var sample = OrtValue.CreateTensorValueFromMemory(x, [n, 1, side, side]);
            using var ts = OrtValue.CreateTensorValueFromMemory(timestep, [n]);
            using var gr = OrtValue.CreateTensorValueFromMemory(grades, [n]);
            using var outputs = session.Run(new RunOptions(), [ModelContract.SampleInput, ModelContract.TimestepInput, ModelContract.GradeInput], [sample, ts, gr], [ModelContract.NoiseOutput]);
            var eps = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            var c = DdpmPosterior.For(schedule, t, t - 1);
            float[] z = c.StdDev > 0 ? NextNoise() : new float[x.Length];
            var next = new float[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                float x0 = Math.Clamp((float)(x[i] * c.X0FromSample - eps[i] * c.X0FromNoise), -1f, 1f);
                next[i] = (float)(x0 * c.MeanFromX0 + x[i] * c.MeanFromSample + z[i] * c.StdDev);
            }
            x = next;
        }
        foreach (var g in generators) g.Dispose();

        var reference = torchImages.data<float>().ToArray();
        double worst = x.Select((v, i) => Math.Abs(Math.Clamp(v, -1f, 1f) - reference[i])).Max();
        log.WriteLine($"after {schedule.TrainTimesteps} DDPM steps: max abs diff {worst:E2} (pixel range 2)");
        Assert.Equal(n * area, reference.Length);
        Assert.InRange(worst, 0, 1e-3);
    }
}
