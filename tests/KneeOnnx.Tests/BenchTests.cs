using System.Text.Json.Nodes;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Bench;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace KneeOnnx.Tests;

public class BenchTests
{
    private static ValueInfoProto Float(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    private static TensorProto Init(string name, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = 1 };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(Enumerable.Repeat(0.5f, (int)dims.Aggregate(1L, (a, d) => a * d)));
        return t;
    }

    private static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = "n_" + output };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        n.Attribute.AddRange(attributes);
        return n;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the weight stored as float16 and Cast to float, as --weight-storage float16 exports it
    public void FlopsOfAHandBuiltGraphAreCountedExactly(bool float16Weight)
    {
        // x[1,1,8,8] → Conv 3×3 pad 1 to 4 channels → reshape [4,64] → MatMul [64,5] → Gemm with B[3,5]ᵀ → [4,3].
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(Float("x", 1, 1, 8, 8));
        if (float16Weight)
        {
            var half = new TensorProto { Name = "w16", DataType = (int)TensorProto.Types.DataType.Float16 };
            half.Dims.AddRange([4, 1, 3, 3]);
            half.Int32Data.AddRange(Enumerable.Repeat(0, 36));
            graph.Initializer.Add(half);
            graph.Node.Add(Node("Cast", ["w16"], "w", new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (int)TensorProto.Types.DataType.Float }));
        }
        else graph.Initializer.Add(Init("w", 4, 1, 3, 3));
        graph.Initializer.Add(Init("m", 64, 5));
        graph.Initializer.Add(Init("b", 3, 5));
        var shape = new TensorProto { Name = "shape", DataType = 7 };
        shape.Dims.Add(2);
        shape.Int64Data.AddRange([4, 64]);
        graph.Initializer.Add(shape);
        graph.Node.Add(Node("Conv", ["x", "w"], "c", new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } }));
        graph.Node.Add(Node("Reshape", ["c", "shape"], "r"));
        graph.Node.Add(Node("MatMul", ["r", "m"], "mm"));
        graph.Node.Add(Node("Gemm", ["mm", "b"], "y", new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 }));
        graph.Output.Add(Float("y", 4, 3));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });

        using var x = OrtValue.CreateTensorValueFromMemory(new float[64], [1, 1, 8, 8]);
        var flops = GraphFlops.Count(model, [("x", x)]);

        Assert.Equal(2L * 4 * 8 * 8 * 9, flops.Conv);   // 4·8·8 outputs, 9 multiply-adds each
        Assert.Equal(2L * 4 * 5 * 64, flops.MatMul);    // [4,64]·[64,5]
        Assert.Equal(2L * 4 * 3 * 5, flops.Gemm);       // [4,5]·[5,3]
    }

    [Fact]
    public void TimingStatsTakeTheMedianAndSpread()
    {
        var odd = TimingStats.Of([3.0, 1.0, 2.0]);
        Assert.Equal(2.0, odd.MedianSeconds);
        Assert.Equal(1.0, odd.Spread);
        Assert.Equal(2.5, TimingStats.Of([4.0, 1.0, 2.0, 3.0]).MedianSeconds);
    }

    [Fact]
    public void BenchRunsOneSetOfWeightsOnBothBackendsAndQuotesRatiosAsOrtSpeedUp()
    {
        using var dir = new TempDirectory();
        var (code, stdout, err) = InProcessCli.Train("bench", "--out", dir.Path, "--preset", "tiny", "--batches", "1,2", "--repeats", "2", "--warmup", "1",
            "--sample-batch", "2", "--ddpm-steps", "4", "--rss-images", "2", "--gemm-size", "128", "--no-paper", "--threads", "2");
        Assert.True(code == 0, err + stdout);

        var report = JsonNode.Parse(File.ReadAllText(dir.Combine("bench.json")))!.AsObject();
        Assert.True(report["parityMaxAbsDiff"]!.GetValue<double>() < 1e-4, "both backends must run the same weights");
        Assert.Equal([1, 2], report["unetCalls"]!.AsArray().Select(c => c!["batch"]!.GetValue<int>()));
        Assert.Equal(["ddpm", "ddim", "dpm++2m"], report["sampling"]!.AsArray().Select(s => s!["sampler"]!.GetValue<string>()));
        // A ratio is ORT's speed-up: TorchSharp time over ORT time, i.e. ORT images/s over TorchSharp images/s.
        foreach (var s in report["sampling"]!.AsArray())
        {
            double expected = s!["ortImagesPerSecond"]!.GetValue<double>() / s["torchSharpImagesPerSecond"]!.GetValue<double>();
            Assert.Equal(expected, s["ortOverTorchSharp"]!.GetValue<double>(), expected * 0.01 + 0.001);
        }
        foreach (var c in report["unetCalls"]!.AsArray())
        {
            double expected = c!["torchSharp"]!["medianMs"]!.GetValue<double>() / c["ort"]!["medianMs"]!.GetValue<double>();
            Assert.Equal(expected, c["ortOverTorchSharp"]!.GetValue<double>(), expected * 0.05); // medians are rounded to 0.01 ms
        }
        Assert.Equal(20, report["peakMemory"]!["largeImages"]!.GetValue<int>()); // the 10× run of --rss-images 2
        Assert.Contains("| rssRatio", File.ReadAllText(dir.Combine("bench.md")));
        var variants = report["sessionVariants"]!.AsArray();
        Assert.Equal(8, variants.Count);
        Assert.Equal("library defaults", variants[0]!["variant"]!.GetValue<string>());
        Assert.Contains(variants, v => v!["variant"]!.GetValue<string>() == "intra-op spinning off" && v["medianMs"]!.GetValue<double>() > 0);
        Assert.False(string.IsNullOrEmpty(BenchSummary.Load(dir.Combine("bench.json")).Machine.Cpu)); // what the card reads
        Assert.Equal(["bench.json", "bench.md"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order()); // scratch removed
    }

    [Fact]
    public void BadBenchSettingsAreOneLineErrors()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Train("bench", "--out", dir.Path, "--batches", "0,4");
        Assert.Equal(2, code);
        Assert.Contains("--batches", err);
        (code, _, err) = InProcessCli.Train("bench", "--out", dir.Path, "--batches", "1,4", "--sample-batch", "16");
        Assert.Equal(2, code);
        Assert.Contains("--sample-batch", err);
        (code, _, err) = InProcessCli.Train("bench", "--out", dir.Path, "--provider", "tpu");
        Assert.Equal(2, code);
        Assert.Contains("--provider", err);
        (code, _, err) = InProcessCli.Train("bench", "--out", dir.Path, "--model", dir.Combine("missing.onnx"));
        Assert.Equal(2, code);
        Assert.Contains("missing.onnx", err);
        (code, _, err) = InProcessCli.Train("bench", "--out", dir.Path, "--training-only", "--training", "resnet50");
        Assert.Equal(2, code);
        Assert.Contains("--training 'resnet50'", err);
    }

    /// <summary>
    /// Every kind of network the trainers train has a throughput row, stepping through the trainers' own step code: a
    /// U-Net preset, an autoencoder preset and a classifier backbone, in each precision the CPU offers.
    /// </summary>
    [Fact]
    public void TrainingThroughputCoversUNetsAutoencodersAndClassifiers()
    {
        var json = TrainingThroughput.Measure(["tiny", "kl-tiny", "small-cnn"], batch: 2, warmup: 0, repeats: 1, TextWriter.Null);
        var precisions = json["precisions"]!.AsArray().Select(p => p!.GetValue<string>()).ToArray();
        Assert.Contains("fp32", precisions);
        var rows = json["networks"]!.AsArray();
        Assert.Equal(["tiny", "kl-tiny", "small-cnn"], rows.Select(r => r!["network"]!.GetValue<string>()));
        foreach (var row in rows)
            foreach (var precision in precisions)
                Assert.True(row![precision]!["imagesPerSecond"]!.GetValue<double>() > 0, $"{row["network"]} {precision}");
    }

    /// <summary>
    /// The precisions' steps alternate, first one then the other, the order flipped each round, after each has had its
    /// warm-up; and the paired ratio is the median of the per-round ratios (hand-computed: 2/1, 3/1, 4/2 → 2, 3, 2).
    /// </summary>
    [Fact]
    public void TrainingStepsAlternateAndThePairedRatioIsTheMedianOfRounds()
    {
        var order = new List<string>();
        TrainingThroughput.Interleaved([() => order.Add("a"), () => order.Add("b")], warmup: 1, repeats: 3);
        Assert.Equal(["a", "b", "a", "b", "b", "a", "a", "b"], order);
        Assert.Equal(2.0, TrainingThroughput.PairedRatio([2.0, 3.0, 4.0], [1.0, 1.0, 2.0]), 12);
        Assert.Equal(2.5, TrainingThroughput.PairedRatio([2.0, 3.0], [1.0, 1.0]), 12);
    }
}
