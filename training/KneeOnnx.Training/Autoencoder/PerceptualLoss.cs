using KneeOnnx.Training.Backbones;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// Distance between two gray images in the frozen ImageNet ResNet-18's features (the network whose pooled features FID-RN18
/// compares): the stem and the first <see cref="Stages"/> stages, each position's feature vector scaled to unit length,
/// squared differences averaged over positions and summed over layers — LPIPS (Zhang et al. 2018) with equal layer
/// weights, as no learned LPIPS weights exist for this network. Gray is replicated to BGR, 0–255, minus the ImageNet
/// channel means.
/// </summary>
public sealed class PerceptualLoss : IDisposable
{
    public const int Stages = 3;
    /// <summary>BGR means of the package's ImageNet mean image; a gray image gets all three.</summary>
    internal static readonly float[] ChannelMeans = [103.94f, 116.78f, 123.68f];

    private readonly ResNet18 _net;
    private readonly Tensor _means;

    public PerceptualLoss(ResNet18 net, ScalarType type, Device device)
    {
        _net = net;
        _net.to(type).to(device);
        _net.eval();
        foreach (var p in _net.parameters()) p.requires_grad = false;
        _means = tensor(ChannelMeans, [1, 3, 1, 1]).to(type).to(device);
    }

    /// <summary>Per-image distance [N] between <paramref name="image"/> (gradients flow) and <paramref name="target"/> (none).</summary>
    public Tensor Distance(Tensor image, Tensor target)
    {
        using var scope = NewDisposeScope();
        List<Tensor> targetFeatures;
        using (no_grad()) targetFeatures = _net.Features(Prepare(target), Stages);
        var imageFeatures = _net.Features(Prepare(image), Stages);
        Tensor? total = null;
        for (int i = 0; i < imageFeatures.Count; i++)
        {
            var a = Unit(imageFeatures[i].to_type(ScalarType.Float32));
            var b = Unit(targetFeatures[i].to_type(ScalarType.Float32));
            var d = (a - b).square().sum(1).mean([1, 2]);
            total = total is null ? d : total + d;
        }
        return total!.MoveToOuterDisposeScope();
    }

    private Tensor Prepare(Tensor gray) => (gray.to_type(_means.dtype) + 1) * 127.5 - _means;

    private static Tensor Unit(Tensor features) => features / (features.square().sum(1, keepdim: true).sqrt() + 1e-10);

    public void Dispose()
    {
        _net.Dispose();
        _means.Dispose();
    }
}
