using KneeOnnx.Runtime;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Denoising;

/// <summary>
/// The TorchSharp network behind the library's <see cref="INoisePredictor"/> seam, so <c>sample</c>, the bench and the
/// parity tests run the inference library's one sampling loop with TorchSharp in place of ONNX Runtime. Each call copies
/// the batch into native memory and back, as ONNX Runtime's CPU path does.
/// </summary>
public sealed class TorchNoisePredictor : INoisePredictor
{
    private readonly UNet _model;
    private readonly Device _device;
    private readonly Dictionary<int, (float[] Input, long[] Grades, long[] Sides)> _buffers = [];

    /// <param name="info">the model's contract; <see cref="InfoFor"/> builds it from a checkpoint as the exporter would.</param>
    public TorchNoisePredictor(UNet model, ModelInfo info, Device? device = null)
    {
        _model = model;
        _device = device ?? CPU;
        Info = info;
        _model.eval();
    }

    public ModelInfo Info { get; }

    public int ValuesPerImage => Info.Channels * Info.ImageSize * Info.ImageSize;

    /// <summary>The contract an export of this checkpoint would carry, parsed by the same reader inference uses.</summary>
    public static ModelInfo InfoFor(TrainState state, string source) =>
        ModelInfo.Parse(source, OnnxExporter.Metadata(state.Model, state, "ema").Concat(LatentExport.DecoderMetadata(state.Train, source))
            .ToDictionary(p => p.Key, p => p.Value));

    public void Predict(ReadOnlySpan<float> samples, int n, int timestep, int grade, double guidance, Span<float> noise, int side = KneeSides.None)
    {
        int sideInput = SideCondition.Resolve(Info, side);
        int len = n * ValuesPerImage;
        if (samples.Length < len || noise.Length < len)
            throw new ArgumentException($"expected {len} values for {n} images, got {samples.Length} in and {noise.Length} out");
        var (input, grades, sides) = BuffersFor(ClassifierFreeGuidance.IsGuided(guidance) ? 2 * n : n);
        int rows = ClassifierFreeGuidance.FillBatch(Info, samples, n, ValuesPerImage, grade, sideInput, guidance, input, grades, sides);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = tensor(input, [rows, Info.Channels, Info.ImageSize, Info.ImageSize]).to(_device);
        var eps = _model.forward(x, full([rows], timestep, ScalarType.Int64, device: _device), tensor(grades).to(_device),
            Info.IsSideConditioned ? tensor(sides).to(_device) : null).cpu();
        eps.data<float>().CopyTo(input);
        ClassifierFreeGuidance.Finish(input, len, guidance, noise);
    }

    /// <summary>Host-side input and grade arrays, one pair per row count, so the sampling loop allocates nothing per step.</summary>
    private (float[] Input, long[] Grades, long[] Sides) BuffersFor(int rows)
    {
        if (!_buffers.TryGetValue(rows, out var b))
            _buffers[rows] = b = (new float[rows * ValuesPerImage], new long[rows], new long[rows]);
        return b;
    }

    /// <summary>The network belongs to the caller.</summary>
    public void Dispose() { }
}
