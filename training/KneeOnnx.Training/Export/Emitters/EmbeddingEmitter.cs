using TorchSharp.Modules;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>nn.Embedding → Gather of rows from the table.</summary>
public static class EmbeddingEmitter
{
    public static string Emit(OnnxGraphBuilder g, Embedding embedding, string indexes)
    {
        string path = g.PathOf(embedding);
        return g.Node("Gather", [g.Weight($"{path}.weight", embedding.weight!), indexes], path.Replace('.', '_'), Attr("axis", 0L));
    }
}
