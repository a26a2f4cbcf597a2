using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Backbones;

/// <summary>
/// ResNet-18 (He et al. 2016) laid out as the ImageNet network of Microsoft.ML.DnnImageFeaturizer.ResNet18 computes it:
/// a CNTK export whose stride-2 convolutions and max-pool pad asymmetrically (top/left one more than bottom/right), so
/// those layers pad explicitly here and convolve without padding. Weights come from that package
/// (<see cref="ResNet18Weights"/>); input is 3-channel BGR in 0–255 minus the ImageNet channel means. That export has
/// three blocks in its last stage where torchvision's ResNet-18 has two (22 convolutions, checked on load).
/// </summary>
public sealed class ResNet18 : nn.Module<Tensor, Tensor>
{
    /// <summary>Channel widths of the four stages.</summary>
    public static readonly int[] StageWidths = [64, 128, 256, 512];
    /// <summary>Basic blocks per stage in the package's network.</summary>
    public static readonly int[] StageBlocks = [2, 2, 2, 3];

    internal readonly Conv2d stem;
    internal readonly BatchNorm2d stem_norm;
    internal readonly ModuleList<BasicBlock> blocks = new();

    public ResNet18() : base(nameof(ResNet18))
    {
        stem = nn.Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 0L, bias: false);
        stem_norm = nn.BatchNorm2d(64, eps: 1e-5);
        int current = 64;
        for (int stage = 0; stage < StageWidths.Length; stage++)
            for (int i = 0; i < StageBlocks[stage]; i++)
            {
                blocks.Add(new BasicBlock(current, StageWidths[stage], stride: i == 0 && stage > 0 ? 2 : 1));
                current = StageWidths[stage];
            }
        RegisterComponents();
    }

    /// <summary>[N,3,H,W] → pooled features [N,512].</summary>
    public override Tensor forward(Tensor x) => Features(x, int.MaxValue).Last().mean([2, 3]);

    /// <summary>
    /// Activations after the stem's ReLU and after each of the first <paramref name="stages"/> stages, for perceptual
    /// comparisons; the network stops after the last one asked for.
    /// </summary>
    public List<Tensor> Features(Tensor x, int stages)
    {
        var result = new List<Tensor>();
        var h = nn.functional.relu(stem_norm.forward(Model.Layers.Convolve(stem, nn.functional.pad(x, [3, 2, 3, 2]))));
        result.Add(h);
        if (stages == 0) return result;
        h = nn.functional.max_pool2d(nn.functional.pad(h, [1, 0, 1, 0], value: double.NegativeInfinity), kernel_size: 3, stride: 2);
        int block = 0;
        for (int stage = 0; stage < StageBlocks.Length && stage < stages; stage++)
        {
            for (int i = 0; i < StageBlocks[stage]; i++) h = blocks[block++].forward(h);
            result.Add(h);
        }
        return result;
    }

    /// <summary>conv-BN-ReLU-conv-BN plus the (1×1 stride-2 conv + BN when the shape changes) shortcut, then ReLU.</summary>
    public sealed class BasicBlock : nn.Module<Tensor, Tensor>
    {
        internal readonly Conv2d conv1;
        internal readonly BatchNorm2d norm1;
        internal readonly Conv2d conv2;
        internal readonly BatchNorm2d norm2;
        internal readonly ModuleList<Conv2d> shortcut_conv = new();
        internal readonly ModuleList<BatchNorm2d> shortcut_norm = new();
        private readonly int _stride;

        public BasicBlock(int inChannels, int outChannels, int stride) : base(nameof(BasicBlock))
        {
            _stride = stride;
            conv1 = nn.Conv2d(inChannels, outChannels, kernel_size: 3, stride: stride, padding: stride == 1 ? 1L : 0L, bias: false);
            norm1 = nn.BatchNorm2d(outChannels, eps: 1e-5);
            conv2 = nn.Conv2d(outChannels, outChannels, kernel_size: 3, padding: 1, bias: false);
            norm2 = nn.BatchNorm2d(outChannels, eps: 1e-5);
            if (stride != 1 || inChannels != outChannels)
            {
                shortcut_conv.Add(nn.Conv2d(inChannels, outChannels, kernel_size: 1, stride: stride, padding: 0L, bias: false));
                shortcut_norm.Add(nn.BatchNorm2d(outChannels, eps: 1e-5));
            }
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var input = _stride == 1 ? x : nn.functional.pad(x, [1, 0, 1, 0]);
            var h = norm2.forward(Model.Layers.Convolve(conv2, nn.functional.relu(norm1.forward(Model.Layers.Convolve(conv1, input)))));
            var skip = shortcut_conv.Count == 0 ? x : shortcut_norm[0].forward(Model.Layers.Convolve(shortcut_conv[0], x));
            return nn.functional.relu(h + skip).MoveToOuterDisposeScope();
        }
    }
}
