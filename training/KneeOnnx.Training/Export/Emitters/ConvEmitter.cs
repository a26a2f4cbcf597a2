using TorchSharp.Modules;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>nn.Conv2d → Conv (symmetric zero padding, any stride).</summary>
public static class ConvEmitter
{
    public static string Emit(OnnxGraphBuilder g, Conv2d conv, string input)
    {
        string path = g.PathOf(conv);
        if (conv.groups != 1 || conv.dilation.Any(d => d != 1))
            throw new NotSupportedException($"{path}: grouped or dilated convolutions are not exported");
        var inputs = new List<string> { input, g.Weight($"{path}.weight", conv.weight!) };
        if (conv.bias is not null) inputs.Add(g.Weight($"{path}.bias", conv.bias));
        long[] padding = conv.padding ?? throw new NotSupportedException($"{path}: only explicit zero padding is exported");
        long[] pads = [padding[0], padding[1], padding[0], padding[1]];
        return g.Node("Conv", inputs, path.Replace('.', '_'),
            Attr("kernel_shape", conv.kernel_size), Attr("strides", conv.stride), Attr("pads", pads), Attr("dilations", [1L, 1L]));
    }
}
