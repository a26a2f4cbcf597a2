using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Runs;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>
/// --ema-decay: the autoencoder run keeps an exponential moving average of what it trains, checkpoints it, resumes it
/// exactly and exports it; a frozen encoder is never averaged.
/// </summary>
public class AutoencoderWeightAverageTests(ITestOutputHelper log)
{
    private static TrainResult Train(AutoencoderTrainConfig config, string dir, KneeDataset data, bool resume = false, long? stopAt = null) =>
        AutoencoderTrainer.Run(config, new TrainRunOptions
        {
            RunDirectory = dir, Resume = resume, Threads = 2, Output = new StringWriter(), Preloaded = data, StopAtStep = stopAt, Device = "cpu",
        });

    private static Dictionary<string, double[]> Weights(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to_type(ScalarType.Float64).data<double>().ToArray());

    /// <summary>
    /// The exported decoder is the average of the live decoders the run passed through: read back from a checkpoint
    /// after every step (the run stopped and resumed each time) and averaged here in float64 by the definition
    /// e ← d·e + (1 − d)·w with d = min(decay, (1 + s)/(10 + s)) after step s, starting from the initial weights.
    /// With decay 0.2 the first steps use the warm-up value and the later ones the cap.
    /// </summary>
    [Fact]
    public void TheAverageIsTheMovingAverageOfTheLiveDecodersAlongTheRun()
    {
        set_num_threads(2);
        using var dir = new TempDirectory();
        string initial = TinyAutoencoder.Export(dir.Combine("ae-run"), dir.Combine("ae"));
        var (images, grades) = SyntheticKnees.InMemory(2, 32);
        var data = KneeDataset.FromMemory(32, images, grades);
        const double decay = 0.2;
        const int steps = 4;
        var config = new AutoencoderTrainConfig
        {
            Data = "memory", Crop = 32, Steps = steps, BatchSize = 4, LearningRate = 2e-3, WarmupSteps = 1, AdversarialStart = 2, CheckpointEvery = 1000,
            InitFrom = initial, FreezeEncoder = true, EmaDecay = decay, Seed = 3,
        };
        string run = dir.Combine("run"), checkpoint = Path.Combine(run, AutoencoderCheckpoint.FileName);

        using var start = AutoencoderFiles.Open(initial).LoadWeights();
        var expected = Weights(start.Decoder);
        var startEncoder = start.Encoder.state_dict();
        for (int step = 1; step <= steps; step++)
        {
            Train(config, run, data, resume: step > 1, stopAt: step);
            var (state, live) = AutoencoderCheckpoint.LoadModel(checkpoint, live: true);
            using (live)
            {
                Assert.Equal(step, state.Step);
                double d = Math.Min(decay, (1.0 + step - 1) / (10.0 + step - 1));
                foreach (var (name, w) in Weights(live.Decoder))
                    for (int i = 0; i < w.Length; i++) expected[name][i] = d * expected[name][i] + (1 - d) * w[i];
            }
        }

        var (_, averaged) = AutoencoderCheckpoint.LoadModel(checkpoint);
        var (_, final) = AutoencoderCheckpoint.LoadModel(checkpoint, live: true);
        using (averaged)
        using (final)
        {
            double worst = 0, moved = 0;
            var finalDecoder = Weights(final.Decoder);
            foreach (var (name, e) in Weights(averaged.Decoder))
                for (int i = 0; i < e.Length; i++)
                {
                    worst = Math.Max(worst, Math.Abs(e[i] - expected[name][i]) / (1e-3 + Math.Abs(expected[name][i])));
                    moved = Math.Max(moved, Math.Abs(e[i] - finalDecoder[name][i]));
                }
            log.WriteLine($"average vs the float64 average of the checkpoints' live decoders: worst relative difference {worst:E2}; average vs last live weights: {moved:E2}");
            Assert.True(worst < 1e-5, $"the exported average is not the moving average of the run's decoders (worst relative difference {worst:E2})");
            Assert.True(moved > 1e-4, "the average equals the live weights: nothing was averaged");
            foreach (var (name, tensor) in averaged.Encoder.state_dict())
                Assert.True(Tensors.Identical(tensor, startEncoder[name]), $"the frozen encoder's {name} was averaged");
        }
    }

    /// <summary>A run that keeps an average, stopped and resumed, ends with the average (and weights) of one that ran straight through.</summary>
    [Theory]
    [InlineData("fp32")]
    [InlineData("bf16")]
    public void StoppedAndResumedRunEndsWithTheSameAverage(string precision)
    {
        set_num_threads(2);
        using var straight = new TempDirectory();
        using var resumed = new TempDirectory();
        var (images, grades) = SyntheticKnees.InMemory(2, 32);
        var data = KneeDataset.FromMemory(32, images, grades);
        var config = new AutoencoderTrainConfig
        {
            Data = "memory", Preset = AutoencoderPresets.Tiny, Crop = 32, Steps = 6, BatchSize = 8, LearningRate = 2e-3, WarmupSteps = 10,
            AdversarialStart = 2, CheckpointEvery = 1000, Seed = 4, EmaDecay = 0.9, Precision = precision,
        };
        Train(config, straight.Path, data);
        Train(config, resumed.Path, data, stopAt: 3);
        Train(config, resumed.Path, data, resume: true);
        foreach (bool live in new[] { false, true })
        {
            var (_, a) = AutoencoderCheckpoint.LoadModel(Path.Combine(straight.Path, AutoencoderCheckpoint.FileName), live);
            var (_, b) = AutoencoderCheckpoint.LoadModel(Path.Combine(resumed.Path, AutoencoderCheckpoint.FileName), live);
            using (a)
            using (b)
            {
                var reference = a.state_dict();
                foreach (var (name, tensor) in b.state_dict())
                    Assert.True(Tensors.Identical(tensor, reference[name]), $"{(live ? "live" : "averaged")} {name} differs after stop + resume");
            }
        }
    }

    /// <summary>
    /// From the command line: --ema-decay given on resume starts an average in a run that had none; another decay for a
    /// run that has one is refused in one line; export-autoencoder writes the average (and says so in the part's metadata)
    /// unless --raw, and the kept encoder file stays byte for byte either way.
    /// </summary>
    [Fact]
    public void ResumeStartsAnAverageAndTheExportWritesItUnlessRawWeightsAreAsked()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), 3, side: 32);
        string original = TinyAutoencoder.Export(dir.Combine("ae-run"), dir.Combine("original"));
        string run = dir.Combine("finetune");
        var first = InProcessCli.Train("train-autoencoder", "--init-from", original, "--freeze-encoder", "--data", data, "--out", run, "--crop", "32",
            "--steps", "6", "--batch", "4", "--lr", "2e-3", "--warmup", "1", "--adversarial-start", "1", "--threads", "2", "--stop-at-step", "2");
        Assert.True(first.Code == 0, first.Err);
        Assert.False(AutoencoderCheckpoint.HasAverage(AutoencoderCheckpoint.ReadState(Path.Combine(run, AutoencoderCheckpoint.FileName))));

        var second = InProcessCli.Train("train-autoencoder", "--out", run, "--resume", "--ema-decay", "0.9", "--threads", "2", "--stop-at-step", "4");
        Assert.True(second.Code == 0, second.Err);
        Assert.Contains("weight average (decay 0.9) starts from the step-2 weights", second.Out);

        var refused = InProcessCli.Train("train-autoencoder", "--out", run, "--resume", "--ema-decay", "0.99", "--threads", "2");
        Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.BadInputExitCode, refused.Code);
        Assert.Contains("--ema-decay 0.99", refused.Err);
        Assert.Contains("decay 0.9", refused.Err);
        Assert.Single(refused.Err.Trim().Split('\n'));
        Assert.Equal(4, AutoencoderCheckpoint.ReadState(Path.Combine(run, AutoencoderCheckpoint.FileName)).Step);

        var third = InProcessCli.Train("train-autoencoder", "--out", run, "--resume", "--threads", "2");
        Assert.True(third.Code == 0, third.Err);

        string averagedFolder = dir.Combine("averaged"), liveFolder = dir.Combine("live");
        var exportAveraged = InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", averagedFolder);
        Assert.True(exportAveraged.Code == 0, exportAveraged.Err);
        Assert.Contains("ema, decay 0.9", exportAveraged.Out);
        var exportLive = InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", liveFolder, "--raw");
        Assert.True(exportLive.Code == 0, exportLive.Err);

        var before = AutoencoderFiles.Open(original);
        foreach (var (folder, weights) in new[] { (averagedFolder, "ema"), (liveFolder, "raw") })
        {
            var files = AutoencoderFiles.Open(folder); // a pair with the kept encoder
            Assert.Equal(File.ReadAllBytes(before.EncoderPath), File.ReadAllBytes(files.EncoderPath));
            using var session = new InferenceSession(files.DecoderPath);
            Assert.Equal(weights, session.ModelMetadata.CustomMetadataMap[AutoencoderContract.Keys.Weights]);
        }

        // The two decoders compute different images from the same latent, and the averaged one is the checkpoint's average.
        var (_, average) = AutoencoderCheckpoint.LoadModel(Path.Combine(run, AutoencoderCheckpoint.FileName));
        using (average)
        {
            var latent = randn(1, 4, 8, 8, generator: new TorchSharp.torch.Generator(7));
            float[] Decode(string folder)
            {
                using var session = new InferenceSession(Path.Combine(folder, AutoencoderContract.DecoderPart, AutoencoderContract.FileName));
                using var input = OrtValue.CreateTensorValueFromMemory(latent.data<float>().ToArray(), [1, 4, 8, 8]);
                using var output = session.Run(new RunOptions(), [AutoencoderContract.LatentName], [input], [AutoencoderContract.ImageName]);
                return output[0].GetTensorDataAsSpan<float>().ToArray();
            }
            float[] fromAverage = Decode(averagedFolder), fromLive = Decode(liveFolder);
            using var _ = no_grad();
            float[] reference = average.Decoder.forward(latent / before.ScaleFactor).clamp(-1, 1).data<float>().ToArray();
            Assert.True(fromAverage.Zip(reference).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
            Assert.True(fromAverage.Zip(fromLive).Max(p => Math.Abs(p.First - p.Second)) > 1e-3, "the averaged and live decoders compute the same image");
        }
    }

    /// <summary>
    /// Without a frozen encoder both parts are exported from the chosen weights: the raw and the averaged exports of one
    /// checkpoint are two autoencoders, so an encoder of one beside the decoder of the other is refused as not a pair.
    /// </summary>
    [Fact]
    public void RawAndAveragedExportsOfOneRunDoNotPair()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), 3, side: 32);
        string run = dir.Combine("run");
        var trained = InProcessCli.Train("train-autoencoder", "--data", data, "--out", run, "--preset", AutoencoderPresets.Tiny, "--crop", "32",
            "--steps", "4", "--batch", "4", "--lr", "2e-3", "--warmup", "1", "--ema-decay", "0.5", "--threads", "2");
        Assert.True(trained.Code == 0, trained.Err);
        string averaged = dir.Combine("ema"), raw = dir.Combine("raw");
        Assert.Equal(0, InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", averaged, "--scale-images", "16").Code);
        Assert.Equal(0, InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", raw, "--scale-images", "16", "--raw").Code);
        var a = AutoencoderFiles.Open(averaged);
        var r = AutoencoderFiles.Open(raw);
        Assert.NotEqual(a.PairSha256, r.PairSha256);
        Assert.NotEqual(File.ReadAllBytes(a.EncoderPath), File.ReadAllBytes(r.EncoderPath));
        File.Copy(r.DecoderPath, a.DecoderPath, overwrite: true);
        var e = Assert.Throws<ArgumentException>(() => AutoencoderFiles.Open(averaged));
        Assert.Contains("are not a pair", e.Message);
    }
}
