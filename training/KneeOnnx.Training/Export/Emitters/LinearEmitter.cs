using TorchSharp.Modules;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>nn.Linear → Gemm for [N, in] inputs, MatMul + Add for [N, L, in] token inputs.</summary>
public static class LinearEmitter
{
    public static string Emit(OnnxGraphBuilder g, Linear linear, string input, bool tokens = false)
    {
        string path = g.PathOf(linear);
        string name = path.Replace('.', '_');
        if (!tokens)
        {
            var inputs = new List<string> { input, g.Weight($"{path}.weight", linear.weight!) };
            if (linear.bias is not null) inputs.Add(g.Weight($"{path}.bias", linear.bias));
            return g.Node("Gemm", inputs, name, Attr("transB", 1L));
        }
        using var transposed = linear.weight!.t();
        string product = g.Node("MatMul", [input, g.Weight($"{path}.weight_t", transposed)], name + "_matmul");
        return linear.bias is null ? product : g.Node("Add", [product, g.Weight($"{path}.bias", linear.bias)], name);
    }
}
