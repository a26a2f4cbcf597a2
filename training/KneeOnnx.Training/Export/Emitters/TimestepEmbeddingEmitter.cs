using KneeOnnx.Training.Model;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>Sinusoidal features of the int64 timestep (frequencies baked as a constant) → Linear → SiLU → Linear.</summary>
public static class TimestepEmbeddingEmitter
{
    public static string Emit(OnnxGraphBuilder g, TimestepEmbedding embedding, string timestep)
    {
        string name = g.PathOf(embedding).Replace('.', '_');
        float[] freqs = TimestepEmbedding.Frequencies(embedding.FeatureDim);
        string asFloat = g.Node("Cast", [timestep], name + "_float", Attr("to", (long)Onnx.TensorProto.Types.DataType.Float));
        string column = g.Node("Unsqueeze", [asFloat, g.Int64s(1)], name + "_column");
        string args = g.Node("Mul", [column, g.FloatInitializer(name + "_frequencies", freqs, [1, freqs.Length])], name + "_args");
        string cos = g.Node("Cos", [args], name + "_cos");
        string sin = g.Node("Sin", [args], name + "_sin");
        string features = g.Node("Concat", [cos, sin], name + "_features", Attr("axis", 1L));
        string hidden = LinearEmitter.Emit(g, embedding.linear1, features);
        hidden = SiluEmitter.Emit(g, hidden, name + "_act");
        return LinearEmitter.Emit(g, embedding.linear2, hidden);
    }
}
