namespace KneeOnnx.Training.Export.Emitters;

/// <summary>SiLU(x) = x·σ(x); opset 17 has no SiLU operator.</summary>
public static class SiluEmitter
{
    public static string Emit(OnnxGraphBuilder g, string input, string hint)
    {
        string sigmoid = g.Node("Sigmoid", [input], hint + "_sigmoid");
        return g.Node("Mul", [input, sigmoid], hint);
    }
}
