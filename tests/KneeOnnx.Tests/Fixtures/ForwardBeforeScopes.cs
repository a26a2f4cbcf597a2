using KneeOnnx.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Tests.Fixtures;

/// <summary>
/// The U-Net forward as it was before the blocks got their own dispose scopes (commit d501c2b), over the same modules:
/// every intermediate handle stays in the caller's scope. The reference the memory test measures against.
/// </summary>
public static class ForwardBeforeScopes
{
    public static Tensor Run(UNet net, Tensor sample, Tensor timestep, Tensor grade)
    {
        var timeEmbedding = net.time_embedding.forward(timestep);
        var input = sample;
        if (net.grade_embedding.Count > 0)
        {
            var gradeVector = net.grade_embedding[0].forward(grade);
            if (net.Config.Conditioning == Conditioning.Concat)
                input = net.grade_embedding[0].AppendAsChannels(sample, gradeVector);
            else
                timeEmbedding = timeEmbedding + gradeVector;
        }
        var h = Layers.Convolve(net.conv_in, input);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        foreach (var level in net.down)
        {
            for (int i = 0; i < level.res.Count; i++)
            {
                h = Res(level.res[i], h, timeEmbedding);
                if (level.attn.Count > 0) h = Attention(level.attn[i], h);
                skips.Push(h);
            }
            if (level.down.Count > 0)
            {
                h = level.down[0].forward(h);
                skips.Push(h);
            }
        }
        h = Res(net.mid.res1, h, timeEmbedding);
        if (net.mid.attn.Count > 0) h = Attention(net.mid.attn[0], h);
        h = Res(net.mid.res2, h, timeEmbedding);
        foreach (var level in net.up)
        {
            for (int i = 0; i < level.res.Count; i++)
            {
                h = Res(level.res[i], cat([h, skips.Pop()], 1), timeEmbedding);
                if (level.attn.Count > 0) h = Attention(level.attn[i], h);
            }
            if (level.up.Count > 0) h = level.up[0].forward(h);
        }
        // The input and output convolutions go through Layers.Convolve as in the U-Net: libtorch's own are wrong with
        // unaligned channel counts (ConvolutionTests), a fix of the arithmetic, not of the scopes this reference is about.
        return Layers.Convolve(net.conv_out, nn.functional.silu(net.norm_out.forward(h)));
    }

    private static Tensor Res(ResBlock block, Tensor x, Tensor timeEmbedding)
    {
        var h = block.conv1.forward(nn.functional.silu(block.norm1.forward(x)));
        h = h + block.time_proj.forward(nn.functional.silu(timeEmbedding)).unsqueeze(-1).unsqueeze(-1);
        h = block.conv2.forward(block.dropout.forward(nn.functional.silu(block.norm2.forward(h))));
        var shortcut = block.skip.Count == 0 ? x : block.skip[0].forward(x);
        return shortcut + h;
    }

    private static Tensor Attention(AttentionBlock block, Tensor x)
    {
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var tokens = block.norm.forward(x).reshape(b, c, h * w).transpose(1, 2);
        var q = block.to_q.forward(tokens);
        var k = block.to_k.forward(tokens);
        var v = block.to_v.forward(tokens);
        var weights = (q.matmul(k.transpose(1, 2)) * block.scale).softmax(-1);
        var attended = block.to_out.forward(weights.matmul(v));
        return x + attended.transpose(1, 2).reshape(b, c, h, w);
    }
}
