using Onnx;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Export;

/// <summary>
/// How an exported graph stores its learnt weights. <see cref="Float16"/> halves the file (a 10.9 M-parameter latent U-Net
/// plus its decoder would not fit the 60 MB a model folder may take in the repository otherwise) while every operator
/// still computes in float32: each weight is a float16 initializer followed by a Cast to float, which ONNX Runtime folds
/// into a float32 constant when the session loads, so inference speed and the inference code are unchanged. What it
/// costs is the rounding of each weight to float16's 11-bit mantissa, which the exporter measures and reports.
/// </summary>
public enum WeightStorage
{
    Float32,
    Float16,
}

public static class WeightStorageNames
{
    public const string Float32 = "float32";
    public const string Float16 = "float16";

    public static WeightStorage Parse(string value, string option) => value switch
    {
        Float32 => WeightStorage.Float32,
        Float16 => WeightStorage.Float16,
        _ => throw new ArgumentException($"{option} '{value}' is not one of {Float32}, {Float16}"),
    };

    public static string Name(WeightStorage storage) => storage == WeightStorage.Float16 ? Float16 : Float32;

    /// <summary>
    /// Rounds every parameter of <paramref name="module"/> to what float16 storage keeps, in place, so the TorchSharp
    /// network computes what the exported file will and the self-check can stay strict.
    /// </summary>
    public static void RoundParameters(nn.Module module, WeightStorage storage)
    {
        if (storage == WeightStorage.Float32) return;
        using var _ = no_grad();
        foreach (var p in module.parameters())
        {
            using var scope = NewDisposeScope();
            p.copy_(p.to_type(ScalarType.Float16).to_type(ScalarType.Float32));
        }
    }

    internal static TensorProto.Types.DataType DataType(WeightStorage storage) =>
        storage == WeightStorage.Float16 ? TensorProto.Types.DataType.Float16 : TensorProto.Types.DataType.Float;
}
