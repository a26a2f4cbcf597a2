using KneeOnnx.Training.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// A PatchGAN critic (Isola et al. 2017, as used by VQGAN and LDM): stride-2 4×4 convolutions with LeakyReLU 0.2, one
/// real/fake logit per overlapping patch. GroupNorm in place of BatchNorm, for the reasons KlClassifierNet gives.
/// </summary>
public sealed class PatchDiscriminator : nn.Module<Tensor, Tensor>
{
    internal readonly ModuleList<Conv2d> convs = new();
    internal readonly ModuleList<GroupNorm> norms = new();
    internal readonly Conv2d head;

    public PatchDiscriminator(int width = 64, int layers = 3) : base(nameof(PatchDiscriminator))
    {
        int current = 1;
        for (int i = 0; i < layers; i++)
        {
            int next = width << i;
            convs.Add(nn.Conv2d(current, next, kernel_size: 4, stride: i < layers - 1 ? 2 : 1, padding: 1L));
            norms.Add(Layers.GroupNorm(Math.Min(32, next / 4), next));
            current = next;
        }
        head = nn.Conv2d(current, 1, kernel_size: 4, stride: 1, padding: 1L);
        RegisterComponents();
    }

    public override Tensor forward(Tensor image)
    {
        var h = image;
        for (int i = 0; i < convs.Count; i++)
        {
            h = Layers.Convolve(convs[i], h);
            if (i > 0) h = norms[i].forward(h); // no norm on the first layer (pix2pix)
            h = nn.functional.leaky_relu(h, 0.2);
        }
        return Layers.Convolve(head, h);
    }
}
