using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Export;

/// <summary>
/// Accumulates ONNX nodes and initializers with unique value names. Emitters ask it for nodes; it knows nothing of the U-Net.
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = [];
    private readonly Dictionary<string, string> _sharedConstants = [];
    private readonly Dictionary<nn.Module, string> _modulePaths;

    public GraphProto Graph { get; } = new() { Name = "kneeonnx_unet" };

    /// <summary>How <see cref="Weight"/> stores the learnt weights; constants (scales, frequencies, shapes) are always float32.</summary>
    public WeightStorage Storage { get; }

    /// <param name="root">the module whose <c>named_modules()</c> paths name the initializers (state_dict names).</param>
    public OnnxGraphBuilder(nn.Module root, WeightStorage storage = WeightStorage.Float32)
    {
        Storage = storage;
        _modulePaths = new Dictionary<nn.Module, string>(ReferenceEqualityComparer.Instance) { [root] = "" };
        foreach (var (name, module) in root.named_modules())
            _modulePaths[module] = name;
    }

    /// <summary>The module's state_dict path, e.g. <c>down.0.res.1.conv2</c>.</summary>
    public string PathOf(nn.Module module) =>
        _modulePaths.TryGetValue(module, out var path) ? path : throw new InvalidOperationException($"module {module.GetName()} is not part of the exported model");

    public string Unique(string hint)
    {
        string name = hint;
        for (int i = 1; !_names.Add(name); i++) name = $"{hint}_{i}";
        return name;
    }

    /// <summary>
    /// An initializer holding a TorchSharp tensor's values (optionally reshaped), named after its state_dict entry; returns
    /// the float32 value the graph's operators read. With float16 <see cref="Storage"/> that is a Cast of the initializer
    /// (see <see cref="WeightStorage"/>), so the initializer keeps the state_dict name the importer looks for.
    /// </summary>
    public string Weight(string name, Tensor value, long[]? dims = null)
    {
        using var cpu = value.detach().cpu().contiguous().to_type(ScalarType.Float32);
        float[] values = cpu.data<float>().ToArray();
        if (Storage == WeightStorage.Float32) return FloatInitializer(name, values, dims ?? value.shape);
        var halves = Array.ConvertAll(values, v => (Half)v);
        var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float16 };
        tensor.Dims.AddRange(dims ?? value.shape);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(halves.AsSpan()));
        Graph.Initializer.Add(tensor);
        return Node("Cast", [tensor.Name], name + "_f32", Attr("to", (long)TensorProto.Types.DataType.Float));
    }

    public string FloatInitializer(string name, float[] values, long[] dims)
    {
        var tensor = new TensorProto { Name = Unique(name), DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>An int64 vector constant (shapes, axes), created once per distinct value.</summary>
    public string Int64s(params long[] values)
    {
        string key = "i64:" + string.Join(",", values);
        if (_sharedConstants.TryGetValue(key, out var existing)) return existing;
        var tensor = new TensorProto { Name = Unique("const_i64_" + string.Join("_", values).Replace('-', 'm')), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        Graph.Initializer.Add(tensor);
        return _sharedConstants[key] = tensor.Name;
    }

    /// <summary>A float constant shared by value (e.g. a scale, or ones/zeros of a given length).</summary>
    public string SharedFloats(string hint, float[] values, long[] dims)
    {
        string key = $"f32:{string.Join(",", dims)}:{string.Join(",", values)}";
        if (_sharedConstants.TryGetValue(key, out var existing)) return existing;
        return _sharedConstants[key] = FloatInitializer(hint, values, dims);
    }

    public string Node(string op, IEnumerable<string> inputs, string outputHint, params AttributeProto[] attributes)
    {
        string output = Unique(outputHint);
        var node = new NodeProto { OpType = op, Name = Unique("n_" + outputHint) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    public static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    public static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
    public static AttributeProto Attr(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Attr(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
