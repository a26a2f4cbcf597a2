using Google.Protobuf;
using KneeOnnx.Runtime;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace KneeOnnx.Training.Bench;

/// <summary>
/// Multiply-add work of an exported U-Net per image: 2 FLOPs per multiply-accumulate in every Conv, MatMul and Gemm.
/// Shapes come from running the graph once at batch 1 with each such node's data input and output exposed as extra
/// outputs, so the count is of the graph as exported, not of a model of it. Elementwise work (norms, activations,
/// adds) is left out, as is usual for FLOP counts; it is small beside the convolutions but not free.
/// </summary>
public static class GraphFlops
{
    private static readonly HashSet<string> Counted = ["Conv", "MatMul", "Gemm"];

    public sealed record Breakdown(long Conv, long MatMul, long Gemm)
    {
        public long Total => Conv + MatMul + Gemm;
    }

    /// <summary>Per image of a KneeOnnx U-Net: one batch-1 run at a mid timestep.</summary>
    public static Breakdown PerImage(ModelProto exported, ModelInfo info)
    {
        int side = info.ImageSize;
        using var sample = OrtValue.CreateTensorValueFromMemory(new float[info.Channels * side * side], [1, info.Channels, side, side]);
        using var timestep = OrtValue.CreateTensorValueFromMemory(new long[] { info.Schedule.TrainTimesteps / 2 }, [1]);
        using var grade = OrtValue.CreateTensorValueFromMemory(new long[] { 0 }, [1]);
        var feeds = new List<(string, OrtValue)> { (ModelContract.SampleInput, sample), (ModelContract.TimestepInput, timestep) };
        using var knee = OrtValue.CreateTensorValueFromMemory(new long[] { KneeSides.Left }, [1]);
        if (info.IsConditional) feeds.Add((ModelContract.GradeInput, grade));
        if (info.IsSideConditioned) feeds.Add((ModelContract.SideInput, knee));
        return Count(exported, feeds);
    }

    /// <summary>Work of one run of any graph on the given inputs.</summary>
    public static Breakdown Count(ModelProto exported, IReadOnlyList<(string Name, OrtValue Value)> feeds)
    {
        var proto = exported.Clone();
        var graph = proto.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());
        var known = graph.Input.Select(v => v.Name).Concat(graph.Output.Select(v => v.Name)).ToHashSet();
        var nodes = graph.Node.Where(n => Counted.Contains(n.OpType)).ToList();
        // A Conv's weight too: in a float16-stored file it is the output of a Cast, not an initializer.
        foreach (var name in nodes.SelectMany(n => n.OpType == "Conv" ? new[] { n.Input[0], n.Input[1], n.Output[0] } : [n.Input[0], n.Output[0]]).Distinct())
        {
            if (known.Contains(name) || initializers.ContainsKey(name)) continue;
            graph.Output.Add(new ValueInfoProto
            {
                Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
            known.Add(name);
        }

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var session = new InferenceSession(proto.ToByteArray(), options);
        var outputNames = graph.Output.Select(o => o.Name).ToArray();
        using var run = new RunOptions();
        using var outputs = session.Run(run, feeds.Select(f => f.Name).ToArray(), feeds.Select(f => f.Value).ToArray(), outputNames);
        var shapes = new Dictionary<string, long[]>(initializers);
        for (int i = 0; i < outputNames.Length; i++) shapes[outputNames[i]] = outputs[i].GetTensorTypeAndShape().Shape;
        foreach (var (name, value) in feeds) shapes[name] = value.GetTensorTypeAndShape().Shape;

        long conv = 0, matmul = 0, gemm = 0;
        foreach (var node in nodes)
        {
            long[] output = shapes[node.Output[0]], input = shapes[node.Input[0]];
            long outputValues = output.Aggregate(1L, (a, d) => a * d);
            switch (node.OpType)
            {
                case "Conv":
                    // weight [Cout, Cin/groups, kh, kw]: each output value takes Cin/groups·kh·kw multiply-adds.
                    conv += 2 * outputValues * shapes[node.Input[1]].Skip(1).Aggregate(1L, (a, d) => a * d);
                    break;
                case "MatMul":
                    matmul += 2 * outputValues * input[^1];
                    break;
                case "Gemm":
                    bool transA = node.Attribute.Any(a => a.Name == "transA" && a.I == 1);
                    gemm += 2 * outputValues * (transA ? input[0] : input[1]);
                    break;
            }
        }
        return new Breakdown(conv, matmul, gemm);
    }
}
