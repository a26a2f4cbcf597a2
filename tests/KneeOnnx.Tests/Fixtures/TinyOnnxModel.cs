using Google.Protobuf;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Runs;
using Onnx;

namespace KneeOnnx.Tests.Fixtures;

/// <summary>A briefly trained tiny model exported once and shared by the inference tests (xunit class fixture).</summary>
public class TinyOnnxModel : IDisposable
{
    private readonly TempDirectory _dir = new();

    /// <summary>The run's checkpoint, for comparing the exported file with its TorchSharp source.</summary>
    public string Checkpoint { get; }
    public string Path { get; }
    public ModelProto Proto { get; }

    public TinyOnnxModel() : this(sides: false, steps: 3) { }

    protected TinyOnnxModel(bool sides, int steps)
    {
        Checkpoint = TinyRuns.Train(_dir.Combine("run"), steps: steps, sides: sides);
        var (state, model) = Training.Runs.Checkpoint.LoadModel(Checkpoint);
        using (model)
            Proto = OnnxExporter.Build(model, state, "ema");
        Path = _dir.Combine(sides ? "sided.onnx" : "tiny.onnx");
        File.WriteAllBytes(Path, Proto.ToByteArray());
    }

    /// <summary>Writes a modified copy of the model (for hostile-model tests) and returns its path.</summary>
    public string WriteVariant(string name, Action<ModelProto> change)
    {
        var copy = Proto.Clone();
        change(copy);
        string path = _dir.Combine(name);
        File.WriteAllBytes(path, copy.ToByteArray());
        return path;
    }

    /// <summary>The same model with its first convolution's weights halved: the same kind of model, predicting differently (an autoguidance guide).</summary>
    public string WriteWeakerVariant(string name) => WriteVariant(name, proto =>
    {
        var weight = proto.Graph.Initializer.First(t => t.Dims.Count == 4 && t.DataType == (int)TensorProto.Types.DataType.Float);
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(weight.RawData.ToByteArray()).ToArray();
        for (int i = 0; i < floats.Length; i++) floats[i] *= 0.5f;
        weight.RawData = Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(floats.AsSpan()));
    });

    public static void SetMeta(ModelProto model, string key, string value) => OnnxExporter.SetMetadata(model, key, value);

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }
}
