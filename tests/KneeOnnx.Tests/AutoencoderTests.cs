using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Runs;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>The knee autoencoder on synthetic knees: it learns, it resumes exactly, and its ONNX pair computes what it does.</summary>
public class AutoencoderTests(ITestOutputHelper log)
{
    private static AutoencoderTrainConfig Config(int steps, int adversarialStart = 1_000_000) => new()
    {
        Data = "memory", Preset = AutoencoderPresets.Tiny, Crop = 32, Steps = steps, BatchSize = 8, LearningRate = 2e-3, WarmupSteps = 10,
        AdversarialStart = adversarialStart, CheckpointEvery = 1000, Seed = 4,
    };

    private static TrainResult Train(AutoencoderTrainConfig config, string dir, KneeDataset data, bool resume = false, long? stopAt = null) =>
        AutoencoderTrainer.Run(config, new TrainRunOptions
        {
            RunDirectory = dir, Resume = resume, Threads = 2, Output = new StringWriter(), Preloaded = data, StopAtStep = stopAt, Device = "cpu",
        });

    /// <summary>
    /// Reconstructions of images it never saw must explain most of their variance. The reference is the best a coder
    /// that ignored its input could do, the mean image (error = the images' variance); the synthetic knees carry ±15
    /// gray levels of pixel noise no 4× bottleneck can keep, which caps how close to zero the error can go.
    /// </summary>
    [Fact]
    public void TinyAutoencoderReconstructsKneesItNeverSaw()
    {
        set_num_threads(2);
        using var dir = new TempDirectory();
        var (images, grades) = SyntheticKnees.InMemory(12, 32);
        var train = KneeDataset.FromMemory(32, images[..50], grades[..50]);
        Train(Config(steps: 250), dir.Path, train);
        var (_, model) = AutoencoderCheckpoint.LoadModel(Path.Combine(dir.Path, AutoencoderCheckpoint.FileName));
        using var _ = model;
        using var __ = no_grad();
        var held = tensor(images[50..].SelectMany(x => x).ToArray(), [images.Length - 50, 1, 32, 32]);
        double error = (model.forward(held) - held).square().mean().item<float>();
        double variance = (held - held.mean([0], keepdim: true)).square().mean().item<float>();
        log.WriteLine($"held-out reconstruction MSE {error:F4} against the mean image's {variance:F4} ({error / variance:P1})");
        Assert.True(error < 0.5 * variance, $"reconstruction error {error:F4} is not well below the mean image's {variance:F4}");
    }

    /// <summary>A run stopped and resumed (across the critic's start) ends with the weights of one that ran straight through.</summary>
    [Theory]
    [InlineData("fp32", 2)]
    [InlineData("bf16", 2)]
    [InlineData("fp32", 100)]
    [InlineData("bf16", 100)]
    public void StoppedAndResumedRunEndsBitIdenticalToAStraightRun(string precision, int adversarialStart)
    {
        set_num_threads(2);
        using var straight = new TempDirectory();
        using var resumed = new TempDirectory();
        var (images, grades) = SyntheticKnees.InMemory(2, 32);
        var data = KneeDataset.FromMemory(32, images, grades);
        var config = Config(steps: 6, adversarialStart: adversarialStart) with { Precision = precision };
        Train(config, straight.Path, data);
        Train(config, resumed.Path, data, stopAt: 3);
        Train(config, resumed.Path, data, resume: true);
        var (_, a) = AutoencoderCheckpoint.LoadModel(Path.Combine(straight.Path, AutoencoderCheckpoint.FileName));
        var (_, b) = AutoencoderCheckpoint.LoadModel(Path.Combine(resumed.Path, AutoencoderCheckpoint.FileName));
        using var _a = a;
        using var _b = b;
        var expected = a.state_dict();
        foreach (var (name, tensor) in b.state_dict())
            Assert.True(Tensors.Identical(tensor, expected[name]), $"{name} differs after stop + resume");
    }

    /// <summary>The exported encoder and decoder, run in ONNX Runtime, reproduce TorchSharp's scaled latent and reconstruction.</summary>
    [Fact]
    public void ExportedPairReproducesTheAutoencoderInOnnxRuntime()
    {
        set_num_threads(2);
        using var dir = new TempDirectory();
        var (images, grades) = SyntheticKnees.InMemory(2, 32);
        Train(Config(steps: 3), dir.Path, KneeDataset.FromMemory(32, images, grades));
        string checkpoint = Path.Combine(dir.Path, AutoencoderCheckpoint.FileName);
        var state = AutoencoderCheckpoint.ReadState(checkpoint);
        var (_, model) = AutoencoderCheckpoint.LoadModel(checkpoint);
        using var _ = model;
        const float scale = 0.7f;
        var encoder = AutoencoderExporter.Encoder(model, state, scale, "pair");
        var decoder = AutoencoderExporter.Decoder(model, state, scale, "pair");
        log.WriteLine($"self-check: encoder {encoder.SelfCheckMaxAbsDiff:E2}, decoder {decoder.SelfCheckMaxAbsDiff:E2}");
        Assert.True(encoder.SelfCheckMaxAbsDiff < 1e-4 && decoder.SelfCheckMaxAbsDiff < 1e-4);

        // Independently of the self-check: a real image through both ONNX graphs against TorchSharp's round trip.
        using var encode = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(encoder.Proto));
        using var decode = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(decoder.Proto));
        using var input = OrtValue.CreateTensorValueFromMemory(images[3], [1, 1, 32, 32]);
        using var run = new RunOptions();
        using var latent = encode.Run(run, [AutoencoderContract.ImageName], [input], [AutoencoderContract.LatentName]);
        using var image = decode.Run(run, [AutoencoderContract.LatentName], [latent[0]], [AutoencoderContract.ImageName]);
        Assert.Equal(new long[] { 1, 4, 8, 8 }, latent[0].GetTensorTypeAndShape().Shape);
        using var __ = no_grad();
        var x = tensor(images[3], [1, 1, 32, 32]);
        var expectedLatent = (model.Encode(x).Mean * scale).data<float>().ToArray();
        var expectedImage = model.forward(x).clamp(-1, 1).data<float>().ToArray();
        var actualLatent = latent[0].GetTensorDataAsSpan<float>().ToArray();
        var actualImage = image[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.True(actualLatent.Zip(expectedLatent).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
        Assert.True(actualImage.Zip(expectedImage).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
        Assert.Equal("0.7", decoder.Proto.MetadataProps.Single(p => p.Key == AutoencoderContract.Keys.ScaleFactor).Value);
    }
}

/// <summary>A committed export continues training when its checkpoint is gone.</summary>
public class AutoencoderInitFromTests
{
    [Fact]
    public void InitFromAnExportStartsFromExactlyItsWeights()
    {
        TorchSharp.torch.set_num_threads(2);
        using var dir = new TempDirectory();
        string folder = TinyAutoencoder.Export(dir.Combine("run"), dir.Combine("ae"));
        var (_, original) = AutoencoderCheckpoint.LoadModel(Path.Combine(dir.Combine("run"), AutoencoderCheckpoint.FileName));
        var (images, grades) = SyntheticKnees.InMemory(2, 32);
        AutoencoderTrainer.Run(new AutoencoderTrainConfig { Data = "memory", Crop = 32, Steps = 1, BatchSize = 2, InitFrom = folder, CheckpointEvery = 1000 },
            new TrainRunOptions { RunDirectory = dir.Combine("continued"), Threads = 2, Output = new StringWriter(), Preloaded = KneeDataset.FromMemory(32, images, grades), Device = "cpu", StopAtStep = 0 });
        var (state, continued) = AutoencoderCheckpoint.LoadModel(Path.Combine(dir.Combine("continued"), AutoencoderCheckpoint.FileName));
        using (original)
        using (continued)
        {
            Assert.Equal(AutoencoderPresets.Tiny, state.Model.Preset);
            Assert.Equal(folder, state.Train.InitFrom);
            var expected = original.state_dict();
            foreach (var (name, tensor) in continued.state_dict())
                Assert.True(Tensors.Identical(tensor, expected[name]), $"{name} is not the exported weight");
        }
    }
}
