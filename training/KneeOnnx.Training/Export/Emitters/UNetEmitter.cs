using KneeOnnx.Runtime;
using KneeOnnx.Training.Model;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>The whole U-Net, in the order of <see cref="UNet.forward"/>.</summary>
public static class UNetEmitter
{
    public static string Emit(OnnxGraphBuilder g, UNet unet)
    {
        var config = unet.Config;
        string timeEmbedding = TimestepEmbeddingEmitter.Emit(g, unet.time_embedding, ModelContract.TimestepInput);
        string input = ModelContract.SampleInput;
        if (unet.side_embedding.Count > 0)
        {
            var side = unet.side_embedding[0];
            string vector = LinearEmitter.Emit(g, side.to_time, EmbeddingEmitter.Emit(g, side.table, ModelContract.SideInput));
            timeEmbedding = g.Node("Add", [timeEmbedding, vector], "time_with_side");
        }
        if (unet.grade_embedding.Count > 0)
        {
            var grade = unet.grade_embedding[0];
            if (config.Conditioning == Conditioning.Concat)
                input = GradeEmbeddingEmitter.EmitForConcat(g, grade, ModelContract.GradeInput, input, config.ImageSize);
            else
                timeEmbedding = g.Node("Add", [timeEmbedding, GradeEmbeddingEmitter.EmitForAdd(g, grade, ModelContract.GradeInput)], "time_with_grade");
        }
        string siluTime = SiluEmitter.Emit(g, timeEmbedding, "time_silu");

        string h = ConvEmitter.Emit(g, unet.conv_in, input);
        var skips = new Stack<string>();
        skips.Push(h);
        foreach (var level in unet.down)
        {
            for (int i = 0; i < level.res.Count; i++)
            {
                h = ResBlockEmitter.Emit(g, level.res[i], h, siluTime);
                if (level.attn.Count > 0) h = AttentionEmitter.Emit(g, level.attn[i], h);
                skips.Push(h);
            }
            if (level.down.Count > 0)
            {
                h = ResamplingEmitter.Emit(g, level.down[0], h);
                skips.Push(h);
            }
        }

        h = ResBlockEmitter.Emit(g, unet.mid.res1, h, siluTime);
        if (unet.mid.attn.Count > 0) h = AttentionEmitter.Emit(g, unet.mid.attn[0], h);
        h = ResBlockEmitter.Emit(g, unet.mid.res2, h, siluTime);

        foreach (var level in unet.up)
        {
            for (int i = 0; i < level.res.Count; i++)
            {
                string joined = g.Node("Concat", [h, skips.Pop()], g.PathOf(level.res[i]).Replace('.', '_') + "_in", Attr("axis", 1L));
                h = ResBlockEmitter.Emit(g, level.res[i], joined, siluTime);
                if (level.attn.Count > 0) h = AttentionEmitter.Emit(g, level.attn[i], h);
            }
            for (int i = 0; i < level.UnusedSkips; i++) skips.Pop();
            if (level.up.Count > 0) h = ResamplingEmitter.Emit(g, level.up[0], h);
        }

        h = GroupNormEmitter.Emit(g, unet.norm_out, h);
        h = SiluEmitter.Emit(g, h, "out_act");
        return ConvEmitter.Emit(g, unet.conv_out, h);
    }
}
