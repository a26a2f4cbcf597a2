using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Model;

/// <summary>One resolution level of the encoder: ResNet blocks (each optionally followed by attention), then an optional downsample.</summary>
public sealed class DownLevel : nn.Module
{
    internal readonly ModuleList<ResBlock> res = new();
    internal readonly ModuleList<AttentionBlock> attn = new();
    internal readonly ModuleList<Downsample> down = new();

    public DownLevel(int inChannels, int outChannels, int blocks, bool attention, bool downsample, UNetConfig config)
        : base(nameof(DownLevel))
    {
        for (int i = 0; i < blocks; i++)
        {
            res.Add(new ResBlock(i == 0 ? inChannels : outChannels, outChannels, config.TimeEmbeddingDim, config.NormGroups, config.Dropout));
            if (attention) attn.Add(new AttentionBlock(outChannels, config.NormGroups));
        }
        if (downsample) down.Add(new Downsample(outChannels));
        RegisterComponents();
    }

    /// <summary>Runs the level, pushing every intermediate feature map the decoder will concatenate.</summary>
    public Tensor Forward(Tensor h, Tensor timeEmbedding, Stack<Tensor> skips)
    {
        for (int i = 0; i < res.Count; i++)
        {
            h = res[i].forward(h, timeEmbedding);
            if (attn.Count > 0) h = attn[i].forward(h);
            skips.Push(h);
        }
        if (down.Count > 0)
        {
            h = down[0].forward(h);
            skips.Push(h);
        }
        return h;
    }
}

/// <summary>
/// One resolution level of the decoder: a ResNet block per skip it uses (usually all blocks+1 its encoder level gave,
/// deepest first), each fed the next skip, then an optional upsample. A lean decoder uses only the first skips and
/// drops the rest (the encoder level's shallowest features: its downsampled output, or the input convolution's).
/// </summary>
public sealed class UpLevel : nn.Module
{
    internal readonly ModuleList<ResBlock> res = new();
    internal readonly ModuleList<AttentionBlock> attn = new();
    internal readonly ModuleList<Upsample> up = new();

    /// <summary>Skips of this level that no block concatenates.</summary>
    internal int UnusedSkips { get; }

    public UpLevel(int inChannels, int[] skipChannels, int blocks, int outChannels, bool attention, bool upsample, UNetConfig config)
        : base(nameof(UpLevel))
    {
        if (blocks < 1 || blocks > skipChannels.Length) throw new ArgumentException($"a decoder level has 1 to {skipChannels.Length} blocks, got {blocks}");
        UnusedSkips = skipChannels.Length - blocks;
        int current = inChannels;
        foreach (int skip in skipChannels.Take(blocks))
        {
            res.Add(new ResBlock(current + skip, outChannels, config.TimeEmbeddingDim, config.NormGroups, config.Dropout));
            if (attention) attn.Add(new AttentionBlock(outChannels, config.NormGroups));
            current = outChannels;
        }
        if (upsample) up.Add(new Upsample(outChannels));
        RegisterComponents();
    }

    public Tensor Forward(Tensor h, Tensor timeEmbedding, Stack<Tensor> skips)
    {
        // Each block's output is only concatenated (cat saves no inputs), so its handle can go when the level ends.
        using var scope = NewDisposeScope();
        for (int i = 0; i < res.Count; i++)
        {
            h = res[i].forward(cat([h, skips.Pop()], 1), timeEmbedding);
            if (attn.Count > 0) h = attn[i].forward(h);
        }
        for (int i = 0; i < UnusedSkips; i++) skips.Pop();
        if (up.Count > 0) h = up[0].forward(h);
        return h.MoveToOuterDisposeScope();
    }
}

/// <summary>The middle of the U: ResNet block, attention, ResNet block at the lowest resolution.</summary>
public sealed class MidBlock : nn.Module<Tensor, Tensor, Tensor>
{
    internal readonly ResBlock res1;
    internal readonly ModuleList<AttentionBlock> attn = new();
    internal readonly ResBlock res2;

    public MidBlock(int channels, UNetConfig config) : base(nameof(MidBlock))
    {
        res1 = new ResBlock(channels, channels, config.TimeEmbeddingDim, config.NormGroups, config.Dropout);
        if (config.MidAttention) attn.Add(new AttentionBlock(channels, config.NormGroups));
        res2 = new ResBlock(channels, channels, config.TimeEmbeddingDim, config.NormGroups, config.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor h, Tensor timeEmbedding)
    {
        h = res1.forward(h, timeEmbedding);
        if (attn.Count > 0) h = attn[0].forward(h);
        return res2.forward(h, timeEmbedding);
    }
}
