using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Model;

/// <summary>
/// Transformer-style sinusoidal features of the integer timestep (cos half first, then sin), followed by a
/// two-layer MLP with SiLU (Ho et al. 2020).
/// </summary>
public sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    public const double MaxPeriod = 10000.0;

    internal readonly Linear linear1;
    internal readonly Linear linear2;

    public int FeatureDim { get; }

    public TimestepEmbedding(int featureDim, int embeddingDim) : base(nameof(TimestepEmbedding))
    {
        if (featureDim % 2 != 0) throw new ArgumentException("sinusoidal feature size must be even");
        FeatureDim = featureDim;
        linear1 = nn.Linear(featureDim, embeddingDim);
        linear2 = nn.Linear(embeddingDim, embeddingDim);
        RegisterComponents();
    }

    /// <summary>freq_i = exp(-ln(MaxPeriod)·i/half), i = 0..half-1; shared with the exporter, which bakes it as a constant.</summary>
    public static float[] Frequencies(int featureDim)
    {
        int half = featureDim / 2;
        var freqs = new float[half];
        for (int i = 0; i < half; i++)
            freqs[i] = (float)Math.Exp(-Math.Log(MaxPeriod) * i / half);
        return freqs;
    }

    public override Tensor forward(Tensor timestep)
    {
        using var freqs = tensor(Frequencies(FeatureDim), device: timestep.device);
        var args = timestep.to_type(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);
        // The features are computed in fp32 whatever the network's precision: in bf16, t·freq near t = 1000 would keep
        // only three significant digits and neighbouring timesteps would share an embedding.
        var features = cat([args.cos(), args.sin()], 1).to_type(linear1.weight!.dtype);
        return linear2.forward(nn.functional.silu(linear1.forward(features)));
    }
}
