using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace KneeOnnx.Training.Bench;

/// <summary>
/// This machine's practical single-precision limit: one large square MatMul through ONNX Runtime with the same thread
/// settings as the U-Net session. A U-Net is mostly convolutions lowered to GEMM, so this is the rate it can approach.
/// </summary>
public static class GemmRate
{
    public sealed record Result(int Size, TimingStats Timing)
    {
        public double GFlops => 2.0 * Size * Size * (double)Size / Timing.MedianSeconds / 1e9;
    }

    public static Result Measure(int size, int intraOpThreads, int warmup, int repeats)
    {
        var graph = new GraphProto { Name = "gemm_rate" };
        graph.Input.Add(Matrix("a", size));
        graph.Input.Add(Matrix("b", size));
        graph.Output.Add(Matrix("c", size));
        var node = new NodeProto { OpType = "MatMul", Name = "matmul" };
        node.Input.Add("a");
        node.Input.Add("b");
        node.Output.Add("c");
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "KneeOnnx bench" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });

        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = intraOpThreads, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        using var session = new InferenceSession(model.ToByteArray(), options);
        var rng = new Random(7);
        float[] Fill() => Enumerable.Range(0, size * size).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        using var a = OrtValue.CreateTensorValueFromMemory(Fill(), [size, size]);
        using var b = OrtValue.CreateTensorValueFromMemory(Fill(), [size, size]);
        using var c = OrtValue.CreateTensorValueFromMemory(new float[size * size], [size, size]);
        using var run = new RunOptions();
        OrtValue[] inputs = [a, b], outputs = [c];
        string[] inputNames = ["a", "b"], outputNames = ["c"];
        var timing = TimingStats.Measure(() => session.Run(run, inputNames, inputs, outputNames, outputs), warmup, repeats);
        return new Result(size, timing);
    }

    private static ValueInfoProto Matrix(string name, int size)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = size });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = size });
        return new ValueInfoProto
        {
            Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
