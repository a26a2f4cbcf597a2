using TorchSharp.Modules;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>
/// nn.GroupNorm as Reshape [N,G,-1] → InstanceNormalization → Reshape back → per-channel Mul/Add. This form matches
/// TorchSharp to ~1e-6 and loads in runtimes older than opset 21's GroupNormalization (opset 18's has per-group
/// scale, a spec bug, and is avoided).
/// </summary>
public static class GroupNormEmitter
{
    public static string Emit(OnnxGraphBuilder g, GroupNorm norm, string input)
    {
        string path = g.PathOf(norm);
        string name = path.Replace('.', '_');
        long groups = norm.num_groups;
        long channels = norm.weight!.shape[0];
        string shape = g.Node("Shape", [input], name + "_shape");
        string grouped = g.Node("Reshape", [input, g.Int64s(0, groups, -1)], name + "_grouped");
        string normed = g.Node("InstanceNormalization",
            [grouped, g.SharedFloats($"ones_{groups}", Enumerable.Repeat(1f, (int)groups).ToArray(), [groups]), g.SharedFloats($"zeros_{groups}", new float[groups], [groups])],
            name + "_normed", Attr("epsilon", (float)norm.eps));
        string restored = g.Node("Reshape", [normed, shape], name + "_restored");
        string scaled = g.Node("Mul", [restored, g.Weight($"{path}.weight", norm.weight, [channels, 1, 1])], name + "_scaled");
        return g.Node("Add", [scaled, g.Weight($"{path}.bias", norm.bias!, [channels, 1, 1])], name);
    }
}
