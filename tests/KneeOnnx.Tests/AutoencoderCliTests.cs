using System.Text.Json;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Autoencoder;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

/// <summary>train-autoencoder → export-autoencoder → evaluate-autoencoder from the command line, on synthetic knees.</summary>
public class AutoencoderCliTests(ITestOutputHelper log)
{
    [Fact]
    public void TrainExportAndEvaluateAnAutoencoderFromTheCommandLine()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), 4, side: 32);
        SyntheticKnees.WriteDataset(data, 3, side: 32, split: "val", firstIndex: 100);
        string run = dir.Combine("run"), model = dir.Combine("model"), report = dir.Combine("report");

        var trained = InProcessCli.Train("train-autoencoder", "--data", data, "--out", run, "--preset", AutoencoderPresets.Tiny, "--crop", "32",
            "--steps", "12", "--batch", "4", "--lr", "2e-3", "--warmup", "2", "--adversarial-start", "8", "--threads", "2");
        Assert.True(trained.Code == 0, trained.Err);
        Assert.Contains("finished at step 12/12", trained.Out);

        var exported = InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", model, "--scale-images", "16");
        Assert.True(exported.Code == 0, exported.Err);
        log.WriteLine(exported.Out);
        var pair = AutoencoderFiles.Open(model);
        Assert.Equal((4, 8, 32), (pair.LatentChannels, pair.LatentSize, pair.ImageSize));
        Assert.True(pair.ScaleFactor > 0 && float.IsFinite(pair.ScaleFactor));

        var evaluated = InProcessCli.Train("evaluate-autoencoder", "--autoencoder", model, "--data", data, "--out", report);
        Assert.True(evaluated.Code == 0, evaluated.Err);
        log.WriteLine(evaluated.Out.Split('\n').Last(l => l.StartsWith("reconstruction:")));
        var result = JsonSerializer.Deserialize<ReconstructionReport>(File.ReadAllText(Path.Combine(report, Reconstruction.ReportFile)))!;
        Assert.Equal(15, result.Images);
        Assert.Equal(15, Directory.GetFiles(Path.Combine(report, "reconstructed"), "*.png", SearchOption.AllDirectories).Length);
        // A coder that kept nothing would write a flat image: PSNR of about 10 dB against these knees (bone 190, gap 50).
        Assert.InRange(result.PsnrDb, 12, 60);
        Assert.True(File.Exists(Path.Combine(report, Reconstruction.SheetFile)));
        Assert.NotNull(result.FidRn18);
    }

    /// <summary>
    /// Decoder fine-tuning: with --freeze-encoder the encoder's weights do not move while the decoder's do, and the export
    /// writes the original encoder file byte for byte (so the latent cache and every latent U-Net stay valid) beside a new
    /// decoder that still pairs with it.
    /// </summary>
    [Fact]
    public void AFrozenEncoderStaysByteForByteWhileTheDecoderTrains()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), 3, side: 32);
        string original = TinyAutoencoder.Export(dir.Combine("ae-run"), dir.Combine("original"));
        string run = dir.Combine("finetune"), model = dir.Combine("finetuned");
        var trained = InProcessCli.Train("train-autoencoder", "--init-from", original, "--freeze-encoder", "--data", data, "--out", run, "--crop", "32",
            "--steps", "4", "--batch", "4", "--lr", "2e-3", "--warmup", "1", "--adversarial-start", "2", "--threads", "2");
        Assert.True(trained.Code == 0, trained.Err);
        Assert.Contains("encoder frozen", trained.Out);

        var before = AutoencoderFiles.Open(original);
        WithKeptEncoder(before, run, (originalModel, tuned) =>
        {
            var decoder = originalModel.Decoder.state_dict();
            Assert.Contains(tuned.Decoder.state_dict(), kv => !Tensors.Identical(kv.Value, decoder[kv.Key]));
        });

        var exported = InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", model);
        Assert.True(exported.Code == 0, exported.Err);
        var after = AutoencoderFiles.Open(model); // still a pair
        Assert.Equal(before.EncoderSha256, after.EncoderSha256);
        Assert.Equal(File.ReadAllBytes(before.EncoderPath), File.ReadAllBytes(after.EncoderPath));
        Assert.NotEqual(before.DecoderSha256, after.DecoderSha256);
        Assert.Equal(before.ScaleFactor, after.ScaleFactor);
        Assert.Equal(before.PairSha256, after.PairSha256);

        // Exported back into the folder it started from, the encoder file is left as it is.
        var inPlace = InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", original);
        Assert.True(inPlace.Code == 0, inPlace.Err);
        Assert.Equal(before.EncoderSha256, AutoencoderFiles.Sha256(before.EncoderPath));
        var inPlaceFiles = AutoencoderFiles.Open(original); // still a pair, with the fine-tuned decoder (its bytes carry the export time)
        Assert.NotEqual(before.DecoderSha256, inPlaceFiles.DecoderSha256);
        Assert.Equal(before.PairSha256, inPlaceFiles.PairSha256);
    }

    /// <summary>
    /// A lighter decoder for faster generation (issue 21): --decoder-widths/--decoder-blocks behind a frozen encoder start
    /// a decoder of another shape from scratch; the encoder file stays byte for byte, so U-Nets and caches stay valid,
    /// and the folder still opens as a pair with the new decoder's shape.
    /// </summary>
    [Fact]
    public void ALighterDecoderTrainsBehindTheKeptEncoderAndStillPairs()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), 3, side: 32);
        string original = TinyAutoencoder.Export(dir.Combine("ae-run"), dir.Combine("original"));
        string run = dir.Combine("light"), model = dir.Combine("light-model");
        var trained = InProcessCli.Train("train-autoencoder", "--init-from", original, "--freeze-encoder", "--decoder-widths", "8,16,16", "--decoder-blocks", "1",
            "--data", data, "--out", run, "--crop", "32", "--steps", "3", "--batch", "4", "--lr", "2e-3", "--warmup", "1", "--threads", "2");
        Assert.True(trained.Code == 0, trained.Err);
        Assert.Contains("a new decoder (widths 8,16,16, 1 blocks per level) starts from scratch", trained.Out);

        var before = AutoencoderFiles.Open(original);
        WithKeptEncoder(before, run, (originalModel, light) =>
        {
            long Count(TorchSharp.torch.nn.Module m) => m.parameters().Sum(p => p.numel());
            Assert.True(Count(light.Decoder) * 4 < Count(originalModel.Decoder), $"{Count(light.Decoder)} vs {Count(originalModel.Decoder)} decoder parameters");
        });

        var exported = InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", model);
        Assert.True(exported.Code == 0, exported.Err);
        var after = AutoencoderFiles.Open(model); // a pair: the configurations differ in the decoder's shape only
        Assert.Equal(File.ReadAllBytes(before.EncoderPath), File.ReadAllBytes(after.EncoderPath));
        Assert.Equal([8, 16, 16], after.Config.DecoderLevelWidths);
        Assert.Equal(1, after.Config.DecoderBlocks);
        Assert.Equal(before.ScaleFactor, after.ScaleFactor);
        Assert.True(new FileInfo(after.DecoderPath).Length * 4 < new FileInfo(before.DecoderPath).Length);
        using (var reloaded = after.LoadWeights()) // the TorchSharp network rebuilt from the files has the new decoder
            Assert.Equal(3, reloaded.Decoder.blocks.Count);

        // The shape options only make sense for a new decoder behind a kept encoder, with one width per level.
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["--preset", AutoencoderPresets.Tiny, "--decoder-widths", "8,16,16"], "need --init-from and --freeze-encoder"),
            (["--init-from", original, "--freeze-encoder", "--decoder-widths", "8,16"], "one width per level of the encoder (3"),
            (["--init-from", original, "--freeze-encoder", "--decoder-widths", "8,x,16"], "--decoder-widths '8,x,16' is not a comma-separated list"),
            (["--init-from", original, "--freeze-encoder", "--decoder-widths", "8,12,16"], "multiple of 8 norm groups"),
        })
        {
            string bad = dir.Combine("bad");
            var refused = InProcessCli.Train(["train-autoencoder", "--data", data, "--out", bad, "--crop", "32", "--steps", "1", .. args]);
            Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.BadInputExitCode, refused.Code);
            Assert.Contains(expected, refused.Err);
            Assert.False(File.Exists(Path.Combine(bad, AutoencoderCheckpoint.FileName)));
        }
    }

    /// <summary>Opens the original export and the run's checkpoint, asserts every encoder weight is unchanged, then hands both to <paramref name="check"/>.</summary>
    private static void WithKeptEncoder(AutoencoderFiles original, string run, Action<KneeAutoencoder, KneeAutoencoder> check)
    {
        using var originalModel = original.LoadWeights();
        var (_, trained) = AutoencoderCheckpoint.LoadModel(Path.Combine(run, AutoencoderCheckpoint.FileName));
        using (trained)
        {
            var encoder = originalModel.Encoder.state_dict();
            foreach (var (name, tensor) in trained.Encoder.state_dict())
                Assert.True(Tensors.Identical(tensor, encoder[name]), $"frozen encoder weight {name} moved");
            check(originalModel, trained);
        }
    }

    [Fact]
    public void FreezingTheEncoderNeedsAnAutoencoderToStartFrom()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), 1, side: 32);
        var (code, _, err) = InProcessCli.Train("train-autoencoder", "--freeze-encoder", "--data", data, "--out", dir.Combine("run"), "--preset", AutoencoderPresets.Tiny, "--crop", "32");
        Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains("--freeze-encoder needs --init-from", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(dir.Combine("run")));
    }

    [Fact]
    public void APairFromTwoDifferentExportsIsRefusedNamingBothFiles()
    {
        using var dir = new TempDirectory();
        string first = TinyAutoencoder.Export(dir.Combine("run1"), dir.Combine("a"), seed: 4);
        string second = TinyAutoencoder.Export(dir.Combine("run2"), dir.Combine("b"), seed: 5);
        File.Copy(Path.Combine(second, AutoencoderContract.DecoderPart, AutoencoderContract.FileName), Path.Combine(first, AutoencoderContract.DecoderPart, AutoencoderContract.FileName), overwrite: true);
        var e = Assert.Throws<ArgumentException>(() => AutoencoderFiles.Open(first));
        Assert.Contains("are not a pair", e.Message);
        Assert.Contains(Path.Combine(AutoencoderContract.EncoderPart, AutoencoderContract.FileName), e.Message);
        Assert.Contains(Path.Combine(AutoencoderContract.DecoderPart, AutoencoderContract.FileName), e.Message);
    }
}
