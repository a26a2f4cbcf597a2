using KneeOnnx.Training.Model;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>
/// AttentionBlock as plain MatMul/Softmax (not the contrib or opset-23 Attention operators, whose CPU and CUDA kernels
/// disagree in places): tokens = GN(x) as [N, HW, C]; softmax(q·kᵀ·scale)·v; output projection; residual.
/// </summary>
public static class AttentionEmitter
{
    public static string Emit(OnnxGraphBuilder g, AttentionBlock block, string input)
    {
        string name = g.PathOf(block).Replace('.', '_');
        string shape = g.Node("Shape", [input], name + "_shape");
        string normed = GroupNormEmitter.Emit(g, block.norm, input);
        string flat = g.Node("Reshape", [normed, g.Int64s(0, block.Channels, -1)], name + "_flat");
        string tokens = g.Node("Transpose", [flat], name + "_tokens", Attr("perm", [0L, 2L, 1L]));
        string q = LinearEmitter.Emit(g, block.to_q, tokens, tokens: true);
        string k = LinearEmitter.Emit(g, block.to_k, tokens, tokens: true);
        string v = LinearEmitter.Emit(g, block.to_v, tokens, tokens: true);
        string kT = g.Node("Transpose", [k], name + "_kT", Attr("perm", [0L, 2L, 1L]));
        string scores = g.Node("MatMul", [q, kT], name + "_scores");
        string scaled = g.Node("Mul", [scores, g.SharedFloats("scale", [(float)block.scale], [])], name + "_scaled");
        string weights = g.Node("Softmax", [scaled], name + "_weights", Attr("axis", -1L));
        string attended = g.Node("MatMul", [weights, v], name + "_attended");
        string projected = LinearEmitter.Emit(g, block.to_out, attended, tokens: true);
        string channelsFirst = g.Node("Transpose", [projected], name + "_cf", Attr("perm", [0L, 2L, 1L]));
        string restored = g.Node("Reshape", [channelsFirst, shape], name + "_restored");
        return g.Node("Add", [input, restored], name);
    }
}
