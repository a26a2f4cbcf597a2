using KneeOnnx.Training.Model;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>Downsample (stride-2 conv) and Upsample (nearest ×2 → conv).</summary>
public static class ResamplingEmitter
{
    public static string Emit(OnnxGraphBuilder g, Downsample down, string input) => ConvEmitter.Emit(g, down.conv, input);

    public static string Emit(OnnxGraphBuilder g, Upsample up, string input)
    {
        string name = g.PathOf(up).Replace('.', '_');
        // asymmetric + floor is PyTorch's "nearest": output pixel i reads input pixel floor(i / 2).
        string doubled = g.Node("Resize", [input, "", g.SharedFloats("scales_1_1_2_2", [1f, 1f, 2f, 2f], [4])], name + "_nearest",
            Attr("mode", "nearest"), Attr("coordinate_transformation_mode", "asymmetric"), Attr("nearest_mode", "floor"));
        return ConvEmitter.Emit(g, up.conv, doubled);
    }
}
