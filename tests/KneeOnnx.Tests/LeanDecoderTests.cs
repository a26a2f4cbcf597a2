using System.Runtime.InteropServices;
using Google.Protobuf;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Onnx;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>
/// A lean U-Net (<see cref="UNetConfig.UpBlocksPerLevel"/>: fewer ResNet blocks per decoder level) and the student of
/// a distilled file trained on it (--up-blocks with --distill-guidance).
/// </summary>
public class LeanDecoderTests(TinySidedModel sided) : IClassFixture<TinySidedModel>
{
    private const int Area = 32 * 32;

    /// <summary>
    /// The reference is the usual network run by ONNX Runtime with each level's second decoder block (and the attention
    /// after it) made an exact identity: zero last convolution, a 1×1 shortcut that passes the upsampled half of its
    /// input and drops the skip, zero attention output. The lean network imported from that file must compute the same.
    /// </summary>
    [Fact]
    public void ALeanNetworkComputesTheUsualOneWithItsDroppedBlocksMadeIdentities()
    {
        var (info, _) = OnnxWeightImporter.Read(sided.Path);
        Assert.Equal(2, info.Model.UpBlocks);
        string neutral = sided.WriteVariant("second-blocks-identity.onnx", proto =>
        {
            for (int level = 0; level < info.Model.Widths.Length; level++)
            {
                string block = $"up.{level}.res.1.";
                Zero(proto, block + "conv2.weight");
                Zero(proto, block + "conv2.bias");
                var shortcut = Initializer(proto, block + "skip.0.weight");
                long outputs = shortcut.Dims[0], inputs = shortcut.Dims[1];
                var pass = new float[outputs * inputs];
                for (long o = 0; o < outputs; o++) pass[o * inputs + o] = 1f;
                Set(shortcut, pass);
                Zero(proto, block + "skip.0.bias");
                if (proto.Graph.Initializer.Any(t => t.Name == $"up.{level}.attn.1.to_out.bias"))
                {
                    Zero(proto, $"up.{level}.attn.1.to_out.weight" + OnnxWeightImporter.TransposedSuffix);
                    Zero(proto, $"up.{level}.attn.1.to_out.bias");
                }
            }
        });

        float[] x = Noise(3 * Area, 11);
        Assert.True(MaxDifference(Ort(neutral, x), Lean(neutral, x)) < 1e-4, "the lean network differs from the usual one with identity blocks");
        // The control: with the second blocks doing their work, dropping them changes the prediction.
        Assert.True(MaxDifference(Ort(sided.Path, x), Lean(sided.Path, x)) > 1e-3, "dropping working blocks changed nothing: the lean network still runs them");
    }

    [Fact]
    public void ALeanNetworkHasFewerParametersByExactlyTheDroppedBlocksAndSaysSoInItsMetadata()
    {
        var (info, proto) = OnnxWeightImporter.Read(sided.Path);
        var usual = new UNet(info.Model);
        var lean = new UNet(info.Model with { UpBlocksPerLevel = 1 });
        long dropped = usual.named_parameters()
            .Where(p => Enumerable.Range(0, info.Model.Widths.Length).Any(l => p.name.StartsWith($"up.{l}.res.1.") || p.name.StartsWith($"up.{l}.attn.1.")))
            .Sum(p => p.parameter.numel());
        Assert.True(dropped > 0);
        Assert.Equal(usual.ParameterCount - dropped, lean.ParameterCount);

        // Usual files' configuration reads as it always did; a lean one names its decoder.
        Assert.DoesNotContain("UpBlocksPerLevel", Metadata(proto, ModelContract.Keys.UNetConfig));
        using var dir = new TempDirectory();
        string run = dir.Combine("lean");
        Train(new TrainConfig { Data = "memory", Preset = Presets.Tiny, Steps = 1, BatchSize = 2, Seed = 3, Precision = "fp32", Sides = true, InitFrom = sided.Path, UpBlocks = 1 }, run);
        string path = dir.Combine("lean.onnx");
        var exported = TinyDistillation.Export(run, path);
        Assert.Contains("\"UpBlocksPerLevel\":1", Metadata(exported, ModelContract.Keys.UNetConfig));
        Assert.Equal(1, OnnxWeightImporter.Read(path).Info.Model.UpBlocks);
        ModelCard.Write(path, exported, lean.ParameterCount, "0", "not checked", "");
        string count = lean.ParameterCount.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"`tiny` with a lean decoder (1 ResNet block per decoder level where the preset has 2), {count} parameters",
            File.ReadAllText(ModelCard.PathFor(path)));
        string usualCopy = dir.Combine("usual.onnx");
        File.Copy(sided.Path, usualCopy);
        ModelCard.Write(usualCopy, proto, usual.ParameterCount, "0", "not checked", "");
        Assert.DoesNotContain("lean decoder", File.ReadAllText(ModelCard.PathFor(usualCopy)));
        var (code, _, err) = InProcessCli.Generate("generate", "--model", path, "--provider", "cpu", "--sampler", "ddim", "--steps", "2",
            "--grades", "3", "--per-grade", "1", "--sides", "R", "--out", dir.Combine("out"));
        Assert.True(code == 0, err);
    }

    [Fact]
    public void ADistilledTeachersTargetIsItsOwnUnguidedPrediction()
    {
        using var dir = new TempDirectory();
        string distilled = Distilled(dir);
        var (info, proto) = OnnxWeightImporter.Read(distilled);
        var network = new UNet(info.Model);
        OnnxWeightImporter.LoadInto(proto, network, distilled);
        using var teacher = new GuidanceTeacher(network, info.Model, 2.0, CPU, bf16: false, guidanceInWeights: true);
        float[] x = Noise(3 * Area, 12);
        using var onnx = KneeModel.Open(distilled, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var ort = new NoiseEstimator(onnx);
        float[] expected = new float[x.Length];
        ort.Predict(x, 3, 450, 4, 1.0, expected, KneeSides.Right);
        float[] target;
        using (NewDisposeScope())
            target = teacher.Target(tensor(x, [3, 1, 32, 32]), full(3, 450L), full(3, 4L), full(3, (long)KneeSides.Right)).data<float>().ToArray();
        Assert.True(MaxDifference(expected, target) < 1e-4, "the distilled teacher's target is not the file's own prediction");
        // Guiding it again would move the target: the test would see a teacher that applied the scale twice.
        ort.Predict(x, 3, 450, 4, 2.0, expected, KneeSides.Right);
        Assert.True(MaxDifference(expected, target) > 1e-3);
    }

    [Fact]
    public void ALeanStudentOfADistilledFileLearnsItsPrediction()
    {
        using var dir = new TempDirectory();
        string distilled = Distilled(dir);
        string run = dir.Combine("student");
        Train(Distil(distilled, 2.0, steps: 40) with { UpBlocks = 1, LearningRate = 3e-3 }, run);
        var losses = LossLog.Read(Path.Combine(run, LossLog.FileName)).Select(r => r.Loss).ToArray();
        Assert.Equal(40, losses.Length);
        Assert.True(losses[0] > 1e-4, $"the lean student started with nothing to learn ({losses[0]:E2})");
        double first = losses.Take(8).Average(), last = losses.TakeLast(8).Average();
        Assert.True(last < 0.6 * first, $"the student did not learn the teacher's prediction: mean loss {first:E2} over the first 8 steps, {last:E2} over the last 8");

        // Min-SNR weighting leaves the noisiest steps untaught: a lean student is told so, a same-network one is not.
        string warned = Train(Distil(distilled, 2.0, steps: 1) with { UpBlocks = 1, MinSnrGamma = 5 }, dir.Combine("min-snr"));
        Assert.Contains("--min-snr-gamma 0", warned);
        Assert.DoesNotContain("--min-snr-gamma 0", Train(Distil(sided.Path, 2.0, steps: 1) with { MinSnrGamma = 5 }, dir.Combine("same-network")));

        // The same network as its distilled teacher has nothing to learn; another scale than the file's is another function.
        var same = Assert.Throws<ArgumentException>(() => Train(Distil(distilled, 2.0, steps: 1), dir.Combine("same")));
        Assert.Contains("--up-blocks", same.Message);
        var other = Assert.Throws<ArgumentException>(() => Train(Distil(distilled, 3.0, steps: 1) with { UpBlocks = 1 }, dir.Combine("other")));
        Assert.Contains(distilled, other.Message);
        Assert.Contains("guidance 2", other.Message);
    }

    [Fact]
    public void DecoderBlockCountsOutsideOneToTheSkipsALevelGivesAreRefused()
    {
        foreach (int blocks in new[] { 0, 3 })
        {
            var e = Assert.Throws<ArgumentException>(() =>
                new TrainConfig { Data = "memory", Preset = Presets.Tiny, UpBlocks = blocks }.Validate((option, _) => option));
            Assert.Contains("1 to 2", e.Message);
        }
        new TrainConfig { Data = "memory", Preset = Presets.Tiny, UpBlocks = 2 }.Validate();

        // A run from a lean file can keep its decoder or drop more, not grow blocks it has no weights for.
        using var dir = new TempDirectory();
        string leanRun = dir.Combine("lean");
        Train(new TrainConfig { Data = "memory", Preset = Presets.Tiny, Steps = 1, BatchSize = 2, Seed = 3, Precision = "fp32", Sides = true, InitFrom = sided.Path, UpBlocks = 1 }, leanRun);
        string lean = dir.Combine("lean.onnx");
        TinyDistillation.Export(leanRun, lean);
        var grow = Assert.Throws<ArgumentException>(() =>
            Train(new TrainConfig { Data = "memory", Preset = Presets.Tiny, Steps = 1, BatchSize = 2, Seed = 3, Sides = true, InitFrom = lean, UpBlocks = 2 }, dir.Combine("grow")));
        Assert.Contains("--up-blocks 2", grow.Message);
        Assert.Contains("not add them", grow.Message);
        Assert.False(Directory.Exists(dir.Combine("grow")), "the refusal comes before the run folder is made");
    }

    /// <summary>The fixture with guidance 2 distilled into it by one step, exported.</summary>
    private string Distilled(TempDirectory dir)
    {
        string run = dir.Combine("distil");
        Train(Distil(sided.Path, 2.0, steps: 1), run);
        string path = dir.Combine("distilled.onnx");
        TinyDistillation.Export(run, path);
        return path;
    }

    private static TrainConfig Distil(string teacher, double scale, int steps) => TinyDistillation.Config(teacher, scale, steps);

    private static string Train(TrainConfig config, string runDir) => TinyDistillation.Run(config, runDir);

    /// <summary>ONNX Runtime's conditional prediction of the file (grade 3, left knee, t = 500).</summary>
    private static float[] Ort(string path, float[] x)
    {
        using var onnx = KneeModel.Open(path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var ort = new NoiseEstimator(onnx);
        var result = new float[x.Length];
        ort.Predict(x, x.Length / Area, 500, 3, 1.0, result, KneeSides.Left);
        return result;
    }

    /// <summary>The same prediction from a TorchSharp network with one decoder block per level, weights imported from the file.</summary>
    private static float[] Lean(string path, float[] x)
    {
        var (info, proto) = OnnxWeightImporter.Read(path);
        using var network = new UNet(info.Model with { UpBlocksPerLevel = 1 });
        OnnxWeightImporter.LoadInto(proto, network, path);
        network.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int n = x.Length / Area;
        return network.forward(tensor(x, [n, 1, 32, 32]), full(n, 500L), full(n, 3L), full(n, (long)KneeSides.Left)).data<float>().ToArray();
    }

    private static float[] Noise(int count, long seed)
    {
        var rng = Randomness.SplitMix64.For(seed, 0, 0);
        var x = new float[count];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    private static double MaxDifference(float[] a, float[] b) => a.Zip(b, (p, q) => (double)Math.Abs(p - q)).Max();

    private static TensorProto Initializer(ModelProto proto, string name) =>
        proto.Graph.Initializer.SingleOrDefault(t => t.Name == name) ?? throw new InvalidOperationException($"no initializer '{name}'");

    private static void Zero(ModelProto proto, string name)
    {
        var t = Initializer(proto, name);
        Set(t, new float[t.Dims.Aggregate(1L, (a, d) => a * d)]);
    }

    private static void Set(TensorProto t, float[] values)
    {
        Assert.Equal((int)TensorProto.Types.DataType.Float, t.DataType);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static string Metadata(ModelProto proto, string key) => proto.MetadataProps.Single(p => p.Key == key).Value;
}
