using KneeOnnx.Training.Backbones;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Classifier;

/// <summary>
/// ImageNet ResNet-18 with a new linear head, fine-tuned whole. Gray is replicated to the three channels the ImageNet
/// filters expect, on their 0–255 scale minus the channel means, so the pretrained first layer sees what it was
/// trained on (the usual way to feed gray radiographs to an ImageNet network).
/// </summary>
public sealed class ResNetClassifierNet : ClassifierNet
{
    internal readonly ResNet18 backbone;
    internal readonly Dropout dropout;
    internal readonly Linear head;

    public override int Classes { get; }

    public ResNetClassifierNet(ResNet18 pretrained, int classes) : base(nameof(ResNetClassifierNet))
    {
        backbone = pretrained;
        Classes = classes;
        dropout = nn.Dropout(0.2);
        head = nn.Linear(ResNet18.StageWidths[^1], classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor gray)
    {
        using var scope = NewDisposeScope();
        var means = tensor(Autoencoder.PerceptualLoss.ChannelMeans, [1, 3, 1, 1]).to(gray.device).to_type(gray.dtype);
        var bgr = (gray.expand(-1, 3, -1, -1) + 1) * 127.5 - means;
        return head.forward(dropout.forward(backbone.forward(bgr))).MoveToOuterDisposeScope();
    }
}
