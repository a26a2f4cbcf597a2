using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

/// <summary>The latent path on the training side: the cached encodings, a latent U-Net's run and its export.</summary>
public class LatentTrainingTests(ITestOutputHelper log)
{
    /// <summary>
    /// The cache holds the encoder's own output for each image and for its mirror (checked against ONNX Runtime run
    /// here on the same pixels); a second encoding with the same encoder and data is read back, and another encoder gets
    /// a file of its own rather than the first one's latents.
    /// </summary>
    [Fact]
    public void LatentsAreTheEncodersOutputCachedPerEncoderAndData()
    {
        using var dir = new TempDirectory();
        var data = KneeDataset.Load(SyntheticKnees.WriteDataset(dir.Combine("data"), 2, side: 32), "train", 32);
        var first = AutoencoderFiles.Open(TinyAutoencoder.Export(dir.Combine("run1"), dir.Combine("ae1"), seed: 4));
        var other = AutoencoderFiles.Open(TinyAutoencoder.Export(dir.Combine("run2"), dir.Combine("ae2"), seed: 5));
        string cache = dir.Combine("cache");

        var log1 = new StringWriter();
        var set = LatentTrainingSet.Encode(data, first, cache, log1);
        Assert.Contains("encoded 10 images", log1.ToString());
        var again = new StringWriter();
        var cached = LatentTrainingSet.Encode(data, first, cache, again);
        Assert.Contains("from the cache", again.ToString());
        var another = new StringWriter();
        LatentTrainingSet.Encode(data, other, cache, another);
        Assert.Contains("encoded 10 images", another.ToString());
        Assert.Equal(2, Directory.GetFiles(cache).Length);

        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(first.EncoderPath);
        using var run = new Microsoft.ML.OnnxRuntime.RunOptions();
        foreach (bool mirrored in new[] { false, true })
        {
            var pixels = new float[32 * 32];
            data.CopySample(3, mirrored, pixels);
            using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(pixels, [1, 1, 32, 32]);
            using var output = session.Run(run, [AutoencoderContract.ImageName], [input], [AutoencoderContract.LatentName]);
            var expected = output[0].GetTensorDataAsSpan<float>().ToArray();
            var fromCache = new float[4 * 8 * 8];
            cached.CopySample(3, mirrored, fromCache);
            Assert.Equal(expected.Length, fromCache.Length);
            Assert.True(expected.Zip(fromCache).Max(p => Math.Abs(p.First - p.Second)) < 1e-5, $"cached latent of image 3 (mirrored: {mirrored}) is not the encoder's");
        }
        Assert.Equal(data.Grades, set.Grades);
    }

    /// <summary>
    /// The TorchSharp encoding a GPU run uses reproduces ONNX Runtime's latents of the same exported encoder (a second
    /// implementation of the same graph), and is cached in a file of its own, so neither path reads the other's bytes.
    /// </summary>
    [Fact]
    public void TorchSharpEncodingMatchesOnnxRuntimeAndIsCachedApart()
    {
        using var dir = new TempDirectory();
        var data = KneeDataset.Load(SyntheticKnees.WriteDataset(dir.Combine("data"), 2, side: 32), "train", 32);
        var files = AutoencoderFiles.Open(TinyAutoencoder.Export(dir.Combine("run"), dir.Combine("ae"), seed: 4));
        string cache = dir.Combine("cache");
        var ort = LatentTrainingSet.Encode(data, files, cache, new StringWriter());
        var torchLog = new StringWriter();
        var torch = LatentTrainingSet.Encode(data, files, cache, torchLog, torchDevice: TorchSharp.torch.CPU);
        Assert.Contains("with TorchSharp on CPU", torchLog.ToString());
        Assert.Equal(2, Directory.GetFiles(cache).Length);
        var again = new StringWriter();
        LatentTrainingSet.Encode(data, files, cache, again, torchDevice: TorchSharp.torch.CPU);
        Assert.Contains("from the cache", again.ToString());

        double worst = 0, scale = 0;
        var a = new float[4 * 8 * 8];
        var b = new float[4 * 8 * 8];
        for (int i = 0; i < data.Count; i++)
            foreach (bool mirrored in new[] { false, true })
            {
                ort.CopySample(i, mirrored, a);
                torch.CopySample(i, mirrored, b);
                for (int k = 0; k < a.Length; k++) { worst = Math.Max(worst, Math.Abs(a[k] - b[k])); scale = Math.Max(scale, Math.Abs(a[k])); }
            }
        log.WriteLine($"largest |ORT − TorchSharp| {worst:E2} over latents up to {scale:F3}");
        Assert.True(scale > 0.1, "the fixture's latents are all near zero: the comparison would prove nothing");
        Assert.True(worst < 1e-4, $"TorchSharp's latents differ from ONNX Runtime's by {worst:E2}");
    }

    /// <summary>A latent U-Net trains on the latents, exports with its decoder's path and hash, and resumes exactly.</summary>
    [Fact]
    public void LatentModelTrainsExportsWithItsDecoderAndResumesExactly()
    {
        using var dir = new TempDirectory();
        string root = SyntheticKnees.WriteDataset(dir.Combine("data"), 2, side: 32);
        string model = dir.Combine("model");
        TinyAutoencoder.Export(dir.Combine("ae-run"), model);
        var config = new TrainConfig
        {
            Data = root, Preset = Presets.LatentSmall, Autoencoder = model, Steps = 4, BatchSize = 2, TrainTimesteps = 100, WarmupSteps = 1, Seed = 3,
        };
        TrainResult Run(string runDir, bool resume = false, long? stopAt = null) => Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = runDir, Resume = resume, StopAtStep = stopAt, Threads = 2, Device = "cpu", Output = new StringWriter(), LatentCache = dir.Combine("cache"),
        });
        Run(dir.Combine("straight"));
        Run(dir.Combine("resumed"), stopAt: 2);
        Run(dir.Combine("resumed"), resume: true);
        var (state, straight) = Checkpoint.LoadModel(Path.Combine(dir.Combine("straight"), Checkpoint.FileName));
        var (_, resumed) = Checkpoint.LoadModel(Path.Combine(dir.Combine("resumed"), Checkpoint.FileName));
        using (straight)
        using (resumed)
        {
            Assert.Equal(4, straight.Config.Channels);
            Assert.Equal(8, straight.Config.ImageSize);
            var expected = straight.state_dict();
            foreach (var (name, tensor) in resumed.state_dict())
                Assert.True(Tensors.Identical(tensor, expected[name]), $"{name} differs after stop + resume");

            string unet = Path.Combine(model, "unet", "model.onnx");
            var proto = OnnxExporter.Build(straight, state, "ema");
            LatentExport.AddDecoder(proto, state.Train, unet);
            string Meta(string key) => proto.MetadataProps.Single(p => p.Key == key).Value;
            Assert.Equal("../vae_decoder/model.onnx", Meta(ModelContract.Keys.Decoder));
            Assert.Equal(AutoencoderFiles.Sha256(Path.Combine(model, "vae_decoder", "model.onnx")), Meta(ModelContract.Keys.DecoderSha256));
            Assert.Equal("32", Meta(ModelContract.Keys.OutputImageSize));
            Assert.Equal("false", Meta(ModelContract.Keys.ClipSample));
            Assert.Equal("4", Meta(ModelContract.Keys.Channels));
            var check = ExportSelfCheck.Run(Google.Protobuf.MessageExtensions.ToByteArray(proto), straight, 100);
            log.WriteLine($"latent U-Net self-check {check.MaxAbsDiff:E2}");
            Assert.True(check.MaxAbsDiff < 1e-4);

            // The export verb writes the same into the model folder, and the inference CLI generates from the folder.
            var exported = InProcessCli.Train("export", "--checkpoint", dir.Combine("straight"), "--out", unet);
            Assert.True(exported.Code == 0, exported.Err);
            var generated = InProcessCli.Generate("generate", "--model", model, "--per-grade", "1", "--grades", "0,4", "--out", dir.Combine("out"));
            Assert.True(generated.Code == 0, generated.Err);
            var pngs = Directory.GetFiles(dir.Combine("out"), "*.png", SearchOption.AllDirectories);
            Assert.Equal(2, pngs.Length);
            using var image = SixLabors.ImageSharp.Image.Load(pngs[0]);
            Assert.Equal((32, 32), (image.Width, image.Height));
        }
    }

    /// <summary>
    /// The latents are the encoder's: a decoder fine-tuned with the encoder frozen leaves a run resumable and its export
    /// names the new decoder; another encoder is refused, naming the encoder file.
    /// </summary>
    [Fact]
    public void ARunFollowsADecoderFineTunedSinceButRefusesAnotherEncoder()
    {
        using var dir = new TempDirectory();
        string root = SyntheticKnees.WriteDataset(dir.Combine("data"), 2, side: 32);
        string model = dir.Combine("model");
        TinyAutoencoder.Export(dir.Combine("ae-run"), model);
        var config = new TrainConfig
        {
            Data = root, Preset = Presets.LatentSmall, Autoencoder = model, Steps = 3, BatchSize = 2, TrainTimesteps = 100, WarmupSteps = 1, Seed = 3,
        };
        var output = new StringWriter();
        TrainResult Run(bool resume = false, long? stopAt = null) => Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = dir.Combine("run"), Resume = resume, StopAtStep = stopAt, Threads = 2, Device = "cpu", Output = output, LatentCache = dir.Combine("cache"),
        });
        Run(stopAt: 1);
        string encoder = Path.Combine(model, "vae_encoder", "model.onnx"), decoder = Path.Combine(model, "vae_decoder", "model.onnx");
        string Rewrite(string path)
        {
            var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            proto.DocString += " (fine-tuned)";
            File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(proto));
            return AutoencoderFiles.Sha256(path);
        }
        string newDecoder = Rewrite(decoder);
        Run(resume: true, stopAt: 2);
        Assert.Contains("the decoder was fine-tuned since this run started", output.ToString());
        var exported = InProcessCli.Train("export", "--checkpoint", dir.Combine("run"), "--out", Path.Combine(model, "unet", "model.onnx"));
        Assert.True(exported.Code == 0, exported.Err);
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Path.Combine(model, "unet", "model.onnx")))
            Assert.Equal(newDecoder, session.ModelMetadata.CustomMetadataMap[ModelContract.Keys.DecoderSha256]);

        Rewrite(encoder);
        var refused = Assert.Throws<ArgumentException>(() => Run(resume: true));
        Assert.Contains(encoder, refused.Message);
        Assert.Contains("the encoder has changed", refused.Message);
        var refusedExport = InProcessCli.Train("export", "--checkpoint", dir.Combine("run"), "--out", dir.Combine("elsewhere.onnx"));
        Assert.NotEqual(0, refusedExport.Code);
        Assert.Contains("the encoder has changed", refusedExport.Err);
    }

    /// <summary>
    /// A model folder renamed mid-campaign (the latent model becoming the shipped default): the run resumes and exports
    /// from the new folder, given with --autoencoder, because the encoder inside is the run's; without it the error
    /// names the missing folder and the option; a folder with another encoder is still refused. The export then starts
    /// a new run with --init-from and --autoencoder (the preset comes from the file).
    /// </summary>
    [Fact]
    public void ARunFollowsItsAutoencoderFolderToANewPlace()
    {
        using var dir = new TempDirectory();
        string root = SyntheticKnees.WriteDataset(dir.Combine("data"), 2, side: 32);
        string before = dir.Combine("kneeonnx-latent"), after = dir.Combine("kneeonnx-default");
        TinyAutoencoder.Export(dir.Combine("ae-run"), before);
        string run = dir.Combine("run");
        string cache = dir.Combine("latents"); // not the user's ~/.cache
        string[] common = ["--out", run, "--threads", "2", "--device", "cpu", "--log-every", "1", "--latent-cache", cache];
        var started = InProcessCli.Train(["train", "--data", root, "--preset", Presets.LatentSmall, "--autoencoder", before, "--steps", "3", "--batch", "2",
            "--timesteps", "100", "--warmup", "1", "--seed", "3", "--stop-at-step", "1", .. common]);
        Assert.True(started.Code == 0, started.Err);
        Assert.Single(Directory.GetFiles(cache, "*.lat")); // the option decides where the latents go
        Directory.Move(before, after);

        var lost = InProcessCli.Train(["train", "--resume", .. common]);
        Assert.NotEqual(0, lost.Code);
        Assert.Contains(before, lost.Err);
        Assert.Contains("--autoencoder", lost.Err);

        var resumed = InProcessCli.Train(["train", "--resume", "--autoencoder", after, .. common]);
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Equal(3, Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName)).Step);
        Assert.Equal(Path.GetFullPath(after), Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName)).Train.Autoencoder);

        string unet = Path.Combine(after, "unet", "model.onnx");
        var exported = InProcessCli.Train("export", "--checkpoint", run, "--out", unet);
        Assert.True(exported.Code == 0, exported.Err); // the checkpoint now names the new folder
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(unet))
            Assert.Equal("../vae_decoder/model.onnx", session.ModelMetadata.CustomMetadataMap[ModelContract.Keys.Decoder]);

        // The exported model continues as a new run (the campaign's way on a machine without the checkpoint): the latent
        // preset comes from the file, the latents from --autoencoder; without one, the error names the option.
        string[] fresh = ["--data", root, "--steps", "1", "--batch", "2", "--warmup", "1", "--threads", "2", "--device", "cpu", "--latent-cache", cache];
        var continued = InProcessCli.Train(["train", "--init-from", unet, "--autoencoder", after, "--out", dir.Combine("continued"), .. fresh]);
        Assert.True(continued.Code == 0, continued.Err);
        var continuedState = Checkpoint.ReadState(Path.Combine(dir.Combine("continued"), Checkpoint.FileName));
        Assert.Equal(Presets.LatentSmall, continuedState.Train.Preset);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(unet))), continuedState.Train.InitFromSha256);
        var noLatents = InProcessCli.Train(["train", "--init-from", unet, "--out", dir.Combine("no-latents"), .. fresh]);
        Assert.NotEqual(0, noLatents.Code);
        Assert.Contains("--autoencoder", noLatents.Err);

        // A folder whose encoder is another one's is not the run's autoencoder, whatever its name.
        string stranger = TinyAutoencoder.Export(dir.Combine("ae-run2"), dir.Combine("stranger"), seed: 9);
        var refused = InProcessCli.Train(["train", "--resume", "--autoencoder", stranger, "--steps", "4", .. common]);
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("the encoder has changed", refused.Err);
        var refusedExport = InProcessCli.Train("export", "--checkpoint", run, "--out", dir.Combine("x.onnx"), "--autoencoder", stranger);
        Assert.NotEqual(0, refusedExport.Code);
        Assert.Contains("the encoder has changed", refusedExport.Err);
    }

    [Fact]
    public void LatentPresetsNeedAnAutoencoderAndPixelPresetsRefuseOne()
    {
        var latent = new TrainConfig { Data = "d", Preset = Presets.LatentSmall };
        Assert.Contains("need --autoencoder", Assert.Throws<ArgumentException>(() => latent.Validate()).Message);
        var pixel = new TrainConfig { Data = "d", Preset = Presets.Small, Autoencoder = "ae" };
        Assert.Contains("must be a latent preset", Assert.Throws<ArgumentException>(() => pixel.Validate()).Message);
    }
}
