using Google.Protobuf;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>
/// Float16 weight storage (<c>--weight-storage float16</c>): the file is about half the size, ONNX Runtime computes what
/// the network computes with its weights rounded to float16, and the importer reads those weights back.
/// The reference rounding is .NET's <see cref="Half"/>, not libtorch's cast the exporter uses.
/// </summary>
public class WeightStorageTests(ITestOutputHelper log)
{
    private static TrainState StateFor(UNetConfig config) => new()
    {
        Step = 0, ElapsedSeconds = 0, DatasetSha256 = "none", Model = config,
        Train = new TrainConfig { Data = "memory", Preset = config.Preset, Conditioning = config.Conditioning },
    };

    private static float[] Values(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    /// <summary>A second network of the same configuration holding <paramref name="source"/>'s weights rounded through <see cref="Half"/>.</summary>
    private static UNet HalfRoundedCopy(UNet source)
    {
        var copy = new UNet(source.Config);
        using var _ = no_grad();
        var target = copy.state_dict();
        foreach (var (name, value) in source.state_dict())
        {
            var rounded = Array.ConvertAll(Values(value), v => (float)(Half)v);
            using var t = tensor(rounded).reshape(value.shape);
            target[name].copy_(t);
        }
        return copy;
    }

    [Fact]
    public void AFloat16FileComputesWhatHalfRoundedWeightsComputeAtAboutHalfTheSize()
    {
        var config = Presets.Get(Presets.Tiny, Conditioning.Add, nullGrade: true);
        manual_seed(31);
        using var model = new UNet(config);
        // Weights of a size a trained network has, so that rounding them is visible in the outputs.
        using (no_grad())
            foreach (var p in model.parameters()) p.add_(randn_like(p) * 0.05);
        byte[] full = OnnxExporter.Build(model, StateFor(config), "ema").ToByteArray();
        var halfProto = OnnxExporter.Build(model, StateFor(config), "ema", WeightStorage.Float16);
        byte[] half = halfProto.ToByteArray();
        log.WriteLine($"float32 file {full.Length} bytes, float16 file {half.Length} bytes ({(double)half.Length / full.Length:P1})");
        Assert.InRange((double)half.Length / full.Length, 0.45, 0.6);
        Assert.Equal(WeightStorageNames.Float16, halfProto.MetadataProps.Single(p => p.Key == ModelContract.Keys.WeightStorage).Value);

        using var rounded = HalfRoundedCopy(model);
        var againstRounded = ExportSelfCheck.Run(half, rounded, 1000);
        var againstTrained = ExportSelfCheck.Run(half, model, 1000);
        var fullAgainstTrained = ExportSelfCheck.Run(full, model, 1000);
        log.WriteLine($"float16 file vs rounded weights {againstRounded.MaxAbsDiff:E2}, vs trained weights {againstTrained.MaxAbsDiff:E2}; float32 file vs trained {fullAgainstTrained.MaxAbsDiff:E2}");
        Assert.InRange(againstRounded.MaxAbsDiff, 0, 1e-4);
        // The file really holds rounded weights: it is further from the unrounded network than float32 parity allows.
        Assert.True(againstTrained.MaxAbsDiff > 10 * againstRounded.MaxAbsDiff,
            $"float16 file is as close to the unrounded network ({againstTrained.MaxAbsDiff:E2}) as to the rounded one ({againstRounded.MaxAbsDiff:E2})");
    }

    [Fact]
    public void TheImporterReadsFloat16WeightsBackExactlyAsRounded()
    {
        var config = Presets.Get(Presets.Tiny, Conditioning.Add, nullGrade: true);
        manual_seed(32);
        using var model = new UNet(config);
        var proto = OnnxExporter.Build(model, StateFor(config), "ema", WeightStorage.Float16);
        Assert.Contains(proto.Graph.Initializer, t => t.DataType == (int)TensorProto.Types.DataType.Float16);
        using var loaded = new UNet(config);
        OnnxWeightImporter.LoadInto(proto, loaded, "memory.onnx");
        var original = model.state_dict();
        foreach (var (name, value) in loaded.state_dict())
        {
            var expected = Array.ConvertAll(Values(original[name]), v => (float)(Half)v);
            Assert.True(expected.SequenceEqual(Values(value)), $"'{name}' read back differs from its float16 rounding");
        }
    }

    /// <summary>
    /// export-autoencoder --weight-storage float16 from the command line: each part about half the size, still a pair,
    /// its decoder within float16 rounding of the float32 export's on the same latent; a wrong value is one line.
    /// </summary>
    [Fact]
    public void AFloat16AutoencoderExportIsHalfTheSizeAndDecodesLikeTheFloat32One()
    {
        using var dir = new TempDirectory();
        string run = dir.Combine("run");
        string full = TinyAutoencoder.Export(run, dir.Combine("float32"));
        string halfFolder = dir.Combine("float16");
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), 4, side: 32);
        var exported = InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", halfFolder, "--data", data, "--scale-images", "16", "--weight-storage", "float16");
        Assert.True(exported.Code == 0, exported.Err);
        log.WriteLine(exported.Out);
        Assert.Contains("weights stored as float16", exported.Out);
        var fullPair = AutoencoderFiles.Open(full);
        var halfPair = AutoencoderFiles.Open(halfFolder);
        foreach (var (a, b) in new[] { (fullPair.EncoderPath, halfPair.EncoderPath), (fullPair.DecoderPath, halfPair.DecoderPath) })
            Assert.InRange((double)new FileInfo(b).Length / new FileInfo(a).Length, 0.45, 0.6);

        var latent = Enumerable.Range(0, 4 * 8 * 8).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
        float[] Decode(string decoderPath, float scale)
        {
            using var session = new InferenceSession(decoderPath);
            var scaled = Array.ConvertAll(latent, v => v * scale);
            using var input = OrtValue.CreateTensorValueFromMemory(scaled, [1, 4, 8, 8]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, [AutoencoderContract.LatentName], [input], [session.OutputNames[0]]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        var a32 = Decode(fullPair.DecoderPath, fullPair.ScaleFactor);
        var a16 = Decode(halfPair.DecoderPath, halfPair.ScaleFactor);
        double worst = a32.Zip(a16, (x, y) => Math.Abs(x - y)).Max();
        log.WriteLine($"decoder outputs float32 vs float16 export: max |Δ| {worst:E2} (pixel range 2)");
        Assert.True(worst > 0, "the float16 decoder computes exactly what the float32 one does: its weights were not rounded");
        Assert.InRange(worst, 0, 0.02);

        var refused = InProcessCli.Train("export-autoencoder", "--checkpoint", run, "--out", dir.Combine("bad"), "--data", data, "--weight-storage", "float8");
        Assert.NotEqual(0, refused.Code);
        Assert.Contains("--weight-storage 'float8'", refused.Err);
        Assert.False(Directory.Exists(dir.Combine("bad")));
    }
}
