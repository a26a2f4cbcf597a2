using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Denoising;

/// <summary>
/// An exponential moving average of the model's weights, used for sampling. The decay warms up as
/// min(maxDecay, (1+step)/(10+step)) so that short CPU runs of a few thousand steps are not dominated by the
/// random initial weights, which a fixed 0.9999 would average over ~10k steps.
/// </summary>
public sealed class ExponentialMovingAverage
{
    private readonly (Tensor Shadow, Tensor Live)[] _pairs;

    public nn.Module Shadow { get; }
    public double MaxDecay { get; }

    /// <param name="shadow">a module of the same parameter names and shapes as <paramref name="live"/>, which receives the average.</param>
    public ExponentialMovingAverage(nn.Module live, nn.Module shadow, double maxDecay)
    {
        Shadow = shadow;
        MaxDecay = maxDecay;
        var liveParams = live.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        _pairs = shadow.named_parameters().Select(p => ((Tensor)p.parameter, liveParams[p.name])).ToArray();
        shadow.eval();
        foreach (var (s, _) in _pairs) s.requires_grad = false;
    }

    public static double DecayAt(long step, double maxDecay) => Math.Min(maxDecay, (1.0 + step) / (10.0 + step));

    public void CopyFromLive()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope(); // in-place ops still return new handles; free them every call
        foreach (var (s, l) in _pairs) s.copy_(l);
    }

    public void Update(long step)
    {
        double decay = DecayAt(step, MaxDecay);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (s, l) in _pairs)
            s.mul_(decay).add_(l, alpha: 1 - decay);
    }
}
