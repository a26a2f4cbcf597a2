using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Model;

/// <summary>Single-head self-attention over the H·W positions of a feature map, with a residual connection.</summary>
public sealed class AttentionBlock : nn.Module<Tensor, Tensor>
{
    internal readonly GroupNorm norm;
    internal readonly Linear to_q;
    internal readonly Linear to_k;
    internal readonly Linear to_v;
    internal readonly Linear to_out;
    internal readonly double scale;

    public int Channels { get; }

    public AttentionBlock(int channels, int groups) : base(nameof(AttentionBlock))
    {
        Channels = channels;
        norm = Layers.GroupNorm(groups, channels);
        to_q = nn.Linear(channels, channels);
        to_k = nn.Linear(channels, channels);
        to_v = nn.Linear(channels, channels);
        to_out = nn.Linear(channels, channels);
        scale = 1.0 / Math.Sqrt(channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // The raw and scaled scores ([B, HW, HW]) are saved by no backward node (softmax keeps its output); free them here.
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var tokens = norm.forward(x).reshape(b, c, h * w).transpose(1, 2); // [B, HW, C]
        var q = to_q.forward(tokens);
        var k = to_k.forward(tokens);
        var v = to_v.forward(tokens);
        // Softmax in fp32 under a bf16 network (a no-op in fp32): exp of bf16 scores loses the small weights' ranks.
        var weights = (q.matmul(k.transpose(1, 2)) * scale).to_type(ScalarType.Float32).softmax(-1).to_type(v.dtype);
        var attended = to_out.forward(weights.matmul(v));
        return (x + attended.transpose(1, 2).reshape(b, c, h, w)).MoveToOuterDisposeScope();
    }
}
