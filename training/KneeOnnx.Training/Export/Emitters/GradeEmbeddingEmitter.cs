using KneeOnnx.Training.Model;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>GradeEmbedding: the table lookup, then the add-mode projection or the concat-mode broadcast to image channels.</summary>
public static class GradeEmbeddingEmitter
{
    /// <summary>Add mode: the [N, time-embedding] vector to add to the timestep embedding.</summary>
    public static string EmitForAdd(OnnxGraphBuilder g, GradeEmbedding embedding, string grade)
    {
        string vector = EmbeddingEmitter.Emit(g, embedding.table, grade);
        return LinearEmitter.Emit(g, embedding.to_time[0], vector);
    }

    /// <summary>Concat mode: [sample; grade vector repeated over H×W] along channels.</summary>
    public static string EmitForConcat(OnnxGraphBuilder g, GradeEmbedding embedding, string grade, string sample, int imageSize)
    {
        string name = g.PathOf(embedding).Replace('.', '_');
        string vector = EmbeddingEmitter.Emit(g, embedding.table, grade);
        string column = g.Node("Reshape", [vector, g.Int64s(-1, embedding.Dim, 1, 1)], name + "_4d");
        string planes = g.Node("Expand", [column, g.Int64s(1, 1, imageSize, imageSize)], name + "_planes");
        return g.Node("Concat", [sample, planes], name + "_input", Attr("axis", 1L));
    }
}
