using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Runtime;

/// <summary>
/// Runs a one-input, one-output [N,C,S,S] graph (either autoencoder part) on pinned buffers kept per batch size, as
/// ONNX Runtime's C# docs advise for repeated runs: after a batch size's first call nothing is allocated.
/// </summary>
internal sealed class PinnedGraphRun : IDisposable
{
    private sealed class Buffers : IDisposable
    {
        public required float[] Input;
        public required float[] Output;
        public required OrtValue[] Inputs;
        public required OrtValue[] Outputs;

        public void Dispose()
        {
            foreach (var v in Inputs) v.Dispose();
            foreach (var v in Outputs) v.Dispose();
        }
    }

    private readonly InferenceSession _session;
    private readonly string[] _inputNames, _outputNames;
    private readonly (int Channels, int Side) _in, _out;
    private readonly Dictionary<int, Buffers> _byRows = [];
    private readonly RunOptions _runOptions = new();

    public PinnedGraphRun(InferenceSession session, string inputName, (int Channels, int Side) input, string outputName, (int Channels, int Side) output)
    {
        _session = session;
        _inputNames = [inputName];
        _outputNames = [outputName];
        _in = input;
        _out = output;
    }

    public int InputLength(int n) => n * _in.Channels * _in.Side * _in.Side;
    public int OutputLength(int n) => n * _out.Channels * _out.Side * _out.Side;

    /// <summary>Runs the graph on the first <paramref name="n"/> rows of <paramref name="input"/>; the result stays valid until the next call with the same n.</summary>
    public ReadOnlySpan<float> Run(ReadOnlySpan<float> input, int n)
    {
        if (n == 0) return [];
        var b = BuffersFor(n);
        input[..InputLength(n)].CopyTo(b.Input);
        _session.Run(_runOptions, _inputNames, b.Inputs, _outputNames, b.Outputs);
        return b.Output.AsSpan(0, OutputLength(n));
    }

    private Buffers BuffersFor(int rows)
    {
        if (_byRows.TryGetValue(rows, out var existing)) return existing;
        var input = new float[InputLength(rows)];
        var output = new float[OutputLength(rows)];
        var buffers = new Buffers
        {
            Input = input, Output = output,
            Inputs = [OrtValue.CreateTensorValueFromMemory(input, [rows, _in.Channels, _in.Side, _in.Side])],
            Outputs = [OrtValue.CreateTensorValueFromMemory(output, [rows, _out.Channels, _out.Side, _out.Side])],
        };
        _byRows[rows] = buffers;
        return buffers;
    }

    public void Dispose()
    {
        foreach (var b in _byRows.Values) b.Dispose();
        _byRows.Clear();
        _runOptions.Dispose();
    }
}
