using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Model;

/// <summary>
/// The ε-prediction U-Net: (sample [N,C,H,W] in [-1,1], timestep int64 [N], grade int64 [N], side int64 [N]) → predicted
/// noise [N,C,H,W]. It knows nothing of the noise schedule; the grade is ignored when <see cref="UNetConfig.Conditioning"/>
/// is none, the side unless <see cref="UNetConfig.SideConditioned"/>.
/// </summary>
public sealed class UNet : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    internal readonly TimestepEmbedding time_embedding;
    internal readonly ModuleList<GradeEmbedding> grade_embedding = new();
    internal readonly ModuleList<SideEmbedding> side_embedding = new();
    internal readonly Conv2d conv_in;
    internal readonly ModuleList<DownLevel> down = new();
    internal readonly MidBlock mid;
    internal readonly ModuleList<UpLevel> up = new();
    internal readonly GroupNorm norm_out;
    internal readonly Conv2d conv_out;

    public UNetConfig Config { get; }

    public UNet(UNetConfig config) : base(nameof(UNet))
    {
        config.Validate();
        Config = config;
        int[] widths = config.Widths;
        time_embedding = new TimestepEmbedding(widths[0], config.TimeEmbeddingDim);
        if (config.IsConditional) grade_embedding.Add(new GradeEmbedding(config));
        if (config.SideConditioned) side_embedding.Add(new SideEmbedding(config));

        int inputChannels = config.Channels + (config.Conditioning == Conditioning.Concat ? config.GradeEmbeddingDim : 0);
        conv_in = Layers.Conv3x3(inputChannels, widths[0]);

        // Track the width of every skip the encoder pushes so the decoder's blocks get matching input widths.
        var skipWidths = new List<int> { widths[0] };
        int current = widths[0];
        for (int level = 0; level < widths.Length; level++)
        {
            bool last = level == widths.Length - 1;
            down.Add(new DownLevel(current, widths[level], config.BlocksPerLevel, config.AttentionLevels.Contains(level), !last, config));
            current = widths[level];
            skipWidths.AddRange(Enumerable.Repeat(current, config.BlocksPerLevel + (last ? 0 : 1)));
        }

        mid = new MidBlock(current, config);

        for (int level = widths.Length - 1; level >= 0; level--)
        {
            int[] skips = skipWidths.GetRange(skipWidths.Count - (config.BlocksPerLevel + 1), config.BlocksPerLevel + 1).AsEnumerable().Reverse().ToArray();
            skipWidths.RemoveRange(skipWidths.Count - skips.Length, skips.Length);
            up.Add(new UpLevel(current, skips, config.UpBlocks, widths[level], config.AttentionLevels.Contains(level), level > 0, config));
            current = widths[level];
        }

        norm_out = Layers.GroupNorm(config.NormGroups, current);
        conv_out = Layers.Conv3x3(current, config.Channels);
        RegisterComponents();
    }

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Without a side: a side-conditioned network is asked for the null side ("either").</summary>
    public override Tensor forward(Tensor sample, Tensor timestep, Tensor grade) => forward(sample, timestep, grade, null);

    public Tensor forward(Tensor sample, Tensor timestep, Tensor grade, Tensor? side)
    {
        var timeEmbedding = time_embedding.forward(timestep);
        if (side_embedding.Count > 0)
        {
            using var scope = NewDisposeScope();
            var sides = side ?? full(sample.shape[0], (long)KneeSides.Null, dtype: ScalarType.Int64, device: sample.device);
            timeEmbedding = (timeEmbedding + side_embedding[0].forward(sides)).MoveToOuterDisposeScope();
        }
        var input = sample;
        if (grade_embedding.Count > 0)
        {
            var gradeVector = grade_embedding[0].forward(grade);
            if (Config.Conditioning == Conditioning.Concat)
                input = grade_embedding[0].AppendAsChannels(sample, gradeVector);
            else
                timeEmbedding = timeEmbedding + gradeVector;
        }

        var h = Layers.Convolve(conv_in, input);
        var skips = new Stack<Tensor>();
        skips.Push(h);
        foreach (var level in down)
            h = level.Forward(h, timeEmbedding, skips);
        h = mid.forward(h, timeEmbedding);
        foreach (var level in up)
            h = level.Forward(h, timeEmbedding, skips);
        return Layers.Convolve(conv_out, nn.functional.silu(norm_out.forward(h)));
    }
}
