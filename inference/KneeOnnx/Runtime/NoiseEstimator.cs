using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Runtime;

/// <summary>
/// Calls the U-Net for a batch of images, reusing pinned input and output buffers (one set per batch size) so the
/// sampling loop allocates nothing per step. With a guidance scale w ≠ 1 the batch is run twice in one call, once
/// with the grade and once with the null grade (<see cref="ClassifierFreeGuidance"/>).
/// </summary>
public sealed class NoiseEstimator : INoisePredictor
{
    private sealed class Buffers : IDisposable
    {
        public required float[] Sample;
        public required long[] Timestep;
        public required long[] Grade;
        public required long[] Side;
        public required float[] Noise;
        public required OrtValue[] Inputs;
        public required OrtValue[] Outputs;
        public OrtIoBinding? Binding;

        public void Dispose()
        {
            Binding?.Dispose();
            foreach (var v in Inputs) v.Dispose();
            foreach (var v in Outputs) v.Dispose();
        }
    }

    private readonly KneeModel _model;
    private readonly Dictionary<int, Buffers> _byRows = [];
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames = [ModelContract.NoiseOutput];
    private readonly int _area;

    public NoiseEstimator(KneeModel model)
    {
        _model = model;
        _area = model.Info.Channels * model.Info.ImageSize * model.Info.ImageSize;
        var names = new List<string> { ModelContract.SampleInput, ModelContract.TimestepInput };
        if (model.Info.IsConditional) names.Add(ModelContract.GradeInput);
        if (model.Info.IsSideConditioned) names.Add(ModelContract.SideInput);
        _inputNames = names.ToArray();
    }

    public ModelInfo Info => _model.Info;

    /// <param name="samples">n images, n·C·H·W values.</param>
    /// <param name="noise">receives ε̂ for the n images.</param>
    public void Predict(ReadOnlySpan<float> samples, int n, int timestep, int grade, double guidance, Span<float> noise, int side = KneeSides.None)
    {
        int sideInput = SideCondition.Resolve(_model.Info, side);
        int len = n * _area;
        var b = BuffersFor(ClassifierFreeGuidance.IsGuided(guidance) ? 2 * n : n);
        ClassifierFreeGuidance.FillBatch(_model.Info, samples, n, _area, grade, sideInput, guidance, b.Sample, b.Grade, b.Side);
        Array.Fill(b.Timestep, timestep);
        if (b.Binding is { } binding)
        {
            // The buffers were bound once; the bound host memory is read afresh on every run.
            binding.SynchronizeBoundInputs();
            _model.Session.RunWithBinding(_runOptions, binding);
            binding.SynchronizeBoundOutputs();
        }
        else
        {
            _model.Session.Run(_runOptions, _inputNames, b.Inputs, _outputNames, b.Outputs);
        }
        ClassifierFreeGuidance.Finish(b.Noise, len, guidance, noise);
    }

    private Buffers BuffersFor(int rows)
    {
        if (_byRows.TryGetValue(rows, out var existing)) return existing;
        int width = _model.Info.ImageSize;
        long[] shape = [rows, _model.Info.Channels, width, width];
        var sample = new float[rows * _area];
        var timestep = new long[rows];
        var grade = new long[rows];
        var side = new long[rows];
        var noise = new float[rows * _area];
        var inputs = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(sample, shape), OrtValue.CreateTensorValueFromMemory(timestep, [rows]) };
        if (_model.Info.IsConditional) inputs.Add(OrtValue.CreateTensorValueFromMemory(grade, [rows]));
        if (_model.Info.IsSideConditioned) inputs.Add(OrtValue.CreateTensorValueFromMemory(side, [rows]));
        var buffers = new Buffers
        {
            Sample = sample, Timestep = timestep, Grade = grade, Side = side, Noise = noise,
            Inputs = inputs.ToArray(),
            Outputs = [OrtValue.CreateTensorValueFromMemory(noise, shape)],
        };
        if (_model.Runtime.IoBinding)
        {
            buffers.Binding = _model.Session.CreateIoBinding();
            for (int i = 0; i < _inputNames.Length; i++) buffers.Binding.BindInput(_inputNames[i], buffers.Inputs[i]);
            buffers.Binding.BindOutput(_outputNames[0], buffers.Outputs[0]);
        }
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
