using KneeOnnx.Training.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Classifier;

/// <summary>
/// A small CNN that grades a knee image (KL 0–4): four stages of two 3×3 conv + GroupNorm + ReLU and a 2×2 max-pool,
/// global average pooling, dropout, linear. GroupNorm instead of BatchNorm: the same computation in training and
/// evaluation, and TorchSharp's norm defaults are fixed in one place (<see cref="Layers"/>). The same network tells the
/// knee side (two classes) for the side check.
/// </summary>
public sealed class KlClassifierNet : ClassifierNet
{
    private readonly ModuleList<Conv2d> convs = new();
    private readonly ModuleList<GroupNorm> norms = new();
    private readonly Dropout dropout;
    private readonly Linear head;

    public int[] Widths { get; }
    public override int Classes { get; }

    public KlClassifierNet(int[] widths, double dropoutRate = 0.3, int classes = KlGrades.Count) : base(nameof(KlClassifierNet))
    {
        Widths = widths;
        Classes = classes;
        int current = 1;
        foreach (int w in widths)
            for (int k = 0; k < 2; k++)
            {
                convs.Add(Layers.Conv3x3(current, w));
                norms.Add(Layers.GroupNorm(Math.Min(8, w / 4), w));
                current = w;
            }
        dropout = nn.Dropout(dropoutRate);
        head = nn.Linear(current, classes);
        RegisterComponents();
    }

    /// <summary>[N,1,H,W] in [-1, 1] → logits [N, classes].</summary>
    public override Tensor forward(Tensor x)
    {
        for (int i = 0; i < convs.Count; i++)
        {
            x = nn.functional.relu(norms[i].forward(Layers.Convolve(convs[i], x)));
            if (i % 2 == 1) x = nn.functional.max_pool2d(x, 2);
        }
        return head.forward(dropout.forward(x.mean([2, 3])));
    }
}
