using static TorchSharp.torch;

namespace KneeOnnx.Training.Classifier;

/// <summary>A network that classifies a gray knee image ([N,1,H,W] in [-1,1]) into <see cref="Classes"/> logits.</summary>
public abstract class ClassifierNet(string name) : nn.Module<Tensor, Tensor>(name)
{
    public abstract int Classes { get; }
}

/// <summary>The classifier networks a file can hold.</summary>
public static class ClassifierBackbone
{
    /// <summary>The project's small CNN trained from scratch (<see cref="KlClassifierNet"/>); files without a backbone hold it.</summary>
    public const string SmallCnn = "small-cnn";
    /// <summary>ImageNet ResNet-18 (the package's weights) fine-tuned, the network users of the tool would train.</summary>
    public const string ResNet18ImageNet = "resnet18-imagenet";
    public static readonly IReadOnlyList<string> All = [SmallCnn, ResNet18ImageNet];

    /// <summary>The untrained network a header describes (for loading its weights).</summary>
    public static ClassifierNet Create(string backbone, int[] widths, int classes) => backbone switch
    {
        SmallCnn => new KlClassifierNet(widths, classes: classes),
        ResNet18ImageNet => new ResNetClassifierNet(new Backbones.ResNet18(), classes),
        _ => throw new ArgumentException($"classifier backbone '{backbone}' is not one of {string.Join(", ", All)}"),
    };

    /// <summary>The network a training run starts from: the small CNN at random, ResNet-18 with its ImageNet weights.</summary>
    public static ClassifierNet Initial(string backbone, int[] widths, int classes) =>
        backbone == ResNet18ImageNet ? new ResNetClassifierNet(Backbones.ResNet18Weights.Load(), classes) : Create(backbone, widths, classes);
}
