using KneeOnnx.Training.Model;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>ResBlock; takes SiLU(time embedding), computed once for the whole graph since every block applies the same SiLU.</summary>
public static class ResBlockEmitter
{
    public static string Emit(OnnxGraphBuilder g, ResBlock block, string input, string siluTimeEmbedding)
    {
        string name = g.PathOf(block).Replace('.', '_');
        string h = GroupNormEmitter.Emit(g, block.norm1, input);
        h = SiluEmitter.Emit(g, h, name + "_act1");
        h = ConvEmitter.Emit(g, block.conv1, h);
        string time = LinearEmitter.Emit(g, block.time_proj, siluTimeEmbedding);
        string time4d = g.Node("Unsqueeze", [time, g.Int64s(2, 3)], name + "_time4d");
        h = g.Node("Add", [h, time4d], name + "_withtime");
        h = GroupNormEmitter.Emit(g, block.norm2, h);
        h = SiluEmitter.Emit(g, h, name + "_act2");
        // Dropout is the identity at inference.
        h = ConvEmitter.Emit(g, block.conv2, h);
        string shortcut = block.skip.Count == 0 ? input : ConvEmitter.Emit(g, block.skip[0], input);
        return g.Node("Add", [shortcut, h], name);
    }
}
