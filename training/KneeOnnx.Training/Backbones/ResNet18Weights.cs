using KneeOnnx.Training.Export;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Backbones;

/// <summary>
/// Loads the ImageNet weights of Microsoft.ML.DnnImageFeaturizer.ResNet18 (its ResNet18.onnx, restored beside the
/// binaries under DnnImageModels/) into <see cref="ResNet18"/>. The export names its tensors ParameterNN, so layers are
/// matched by structure: every Conv node, in graph order, with the BatchNormalization that reads its output, against the
/// module's convolutions in the same order (a stage's shortcut comes before its main path there); a kernel or shape
/// that does not match stops the load naming both.
/// </summary>
public static class ResNet18Weights
{
    public const string FileName = "ResNet18.onnx";

    /// <summary>BGR channel means of the package's ImageNet mean image (its ResNetPreprocess.onnx), 0–255.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", FileName);

    public static ResNet18 Load(string? path = null)
    {
        path ??= DefaultPath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: ResNet-18 weights not found (restored from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18)", path);
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var normAfter = graph.Node.Where(n => n.OpType == "BatchNormalization").ToDictionary(n => n.Input[0]);
        var convs = graph.Node.Where(n => n.OpType == "Conv").ToList();

        var net = new ResNet18();
        var targets = InGraphOrder(net).ToList();
        if (convs.Count != targets.Count)
            throw new InvalidDataException($"{path}: {convs.Count} convolutions, expected ResNet-18's {targets.Count}");
        using (no_grad())
        {
            for (int i = 0; i < convs.Count; i++)
            {
                var (conv, norm, name) = targets[i];
                var node = convs[i];
                Copy(initializers[node.Input[1]], conv.weight!, $"{name} ({node.Name})", path);
                if (!normAfter.TryGetValue(node.Output[0], out var bn))
                    throw new InvalidDataException($"{path}: {node.Name} is not followed by a BatchNormalization");
                Copy(initializers[bn.Input[1]], norm.weight!, $"{name} scale ({bn.Name})", path);
                Copy(initializers[bn.Input[2]], norm.bias!, $"{name} bias ({bn.Name})", path);
                Copy(initializers[bn.Input[3]], norm.running_mean!, $"{name} mean ({bn.Name})", path);
                Copy(initializers[bn.Input[4]], norm.running_var!, $"{name} variance ({bn.Name})", path);
            }
        }
        net.eval();
        return net;
    }

    /// <summary>The convolutions with their norms in the order the package's graph lists them.</summary>
    private static IEnumerable<(Conv2d Conv, BatchNorm2d Norm, string Name)> InGraphOrder(ResNet18 net)
    {
        yield return (net.stem, net.stem_norm, "stem");
        for (int i = 0; i < net.blocks.Count; i++)
        {
            var block = net.blocks[i];
            string name = $"blocks.{i}";
            if (block.shortcut_conv.Count > 0) yield return (block.shortcut_conv[0], block.shortcut_norm[0], name + ".shortcut");
            yield return (block.conv1, block.norm1, name + ".conv1");
            yield return (block.conv2, block.norm2, name + ".conv2");
        }
    }

    private static void Copy(TensorProto source, Tensor target, string what, string path)
    {
        if (!source.Dims.SequenceEqual(target.shape))
            throw new InvalidDataException($"{path}: {what} has shape [{string.Join(",", source.Dims)}], the module expects [{string.Join(",", target.shape)}]");
        using var values = tensor(OnnxWeightImporter.FloatsOf(source, path), target.shape);
        target.copy_(values);
    }
}
