using KneeOnnx.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Denoising;

/// <summary>
/// A frozen copy of a guided model whose classifier-free-guided output, ŷ_null + w·(ŷ − ŷ_null), becomes the target of a
/// student that then guides in one network call instead of two (Meng et al. 2023, "On distillation of guided diffusion
/// models", stage one): the sampler's guided batch halves, and so does the U-Net's share of the generation time.
/// A teacher that already has the guidance in its weights (a distilled file) gives its own prediction in one call: the
/// target of a smaller student (--up-blocks) that is to compute what the shipped file computes.
/// </summary>
/// <remarks>The rows and their null grade and null side are those of the inference library's
/// <see cref="KneeOnnx.Runtime.ClassifierFreeGuidance"/>: a row whose grade the batch already dropped gets the
/// unguided target (its two halves are the same call), so the student's null path stays the teacher's.</remarks>
public sealed class GuidanceTeacher : IDisposable
{
    private readonly UNet _model;
    private readonly UNetConfig _config;
    private readonly ScalarType _compute;
    private readonly bool _guidanceInWeights;

    public double Scale { get; }

    /// <param name="model">The teacher, owned from here on; its weights are frozen.</param>
    /// <param name="bf16">Run the teacher in bfloat16, as the student's forward runs (its targets then carry bf16 rounding).</param>
    /// <param name="guidanceInWeights">The model already predicts with guidance <paramref name="scale"/> (a distilled file): its own output is the target, one call.</param>
    public GuidanceTeacher(UNet model, UNetConfig config, double scale, Device device, bool bf16, bool guidanceInWeights = false)
    {
        if (!config.HasNullGrade) throw new ArgumentException("the teacher has no null grade, so it has no classifier-free guidance to distil");
        if (!double.IsFinite(scale) || scale <= 0) throw new ArgumentException($"the guidance scale to distil must be > 0, got {scale}");
        _model = model;
        _config = config;
        _guidanceInWeights = guidanceInWeights;
        Scale = scale;
        _compute = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        _model.to(device);
        if (bf16) _model.to(ScalarType.BFloat16);
        foreach (var p in _model.parameters()) p.requires_grad = false;
        _model.eval();
    }

    /// <summary>The guided prediction for these noisy samples, timesteps and labels, as fp32 without a graph.</summary>
    public Tensor Target(Tensor noisy, Tensor timesteps, Tensor grades, Tensor? sides)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long n = noisy.shape[0];
        if (_guidanceInWeights)
            return _model.forward(noisy.to_type(_compute), timesteps, grades, sides).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
        var x = cat([noisy, noisy]).to_type(_compute);
        var t = cat([timesteps, timesteps]);
        var g = cat([grades, full_like(grades, _config.NullGrade)]);
        var s = sides is null ? null : cat([sides, full_like(sides, _config.NullSide)]);
        var both = _model.forward(x, t, g, s).to_type(ScalarType.Float32);
        var conditional = both.narrow(0, 0, n);
        var unconditional = both.narrow(0, n, n);
        return (unconditional + Scale * (conditional - unconditional)).MoveToOuterDisposeScope();
    }

    public void Dispose() => _model.Dispose();
}
