using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Precision;

/// <summary>
/// Mixed precision by hand (TorchSharp 0.107 has no autocast): a bfloat16 copy of the network computes the forward and
/// backward passes while the fp32 master network keeps the weights the optimiser updates. Each step copies the master
/// weights down, and after <c>backward()</c> hands the copy's gradients up in fp32. An update smaller than bf16's spacing
/// at a weight's size (8-bit mantissa: 2⁻⁸ relative) is kept in the fp32 master; a bf16 master would drop it.
/// What needs range or precision stays fp32 inside the modules themselves: the sinusoidal timestep features and the
/// attention softmax; GroupNorm accumulates its statistics in fp32 within libtorch's bf16 kernel. Convolutions whose
/// output channels are not a multiple of 16 compute wrongly in bf16 here; the modules run those through
/// <see cref="Model.Layers.Convolve"/>, which is exact in both precisions.
/// </summary>
public sealed class BFloat16Compute : IDisposable
{
    private readonly (Tensor Master, Tensor Copy)[] _parameters;
    private readonly (Tensor Master, Tensor Copy)[] _buffers;
    private readonly Tensor[] _masters;

    public nn.Module Copy { get; }

    /// <param name="master">the fp32 network the optimiser owns.</param>
    /// <param name="copy">a second instance of the same architecture; it is cast to bfloat16 here and owned by this object.</param>
    public BFloat16Compute(nn.Module master, nn.Module copy)
    {
        Copy = copy;
        copy.to(ScalarType.BFloat16);
        var copyParameters = copy.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        _parameters = master.named_parameters().Select(p => ((Tensor)p.parameter, Find(copyParameters, p.name))).ToArray();
        var copyBuffers = copy.named_buffers().ToDictionary(p => p.name, p => p.buffer);
        _buffers = master.named_buffers().Where(b => b.buffer.is_floating_point()).Select(b => (b.buffer, Find(copyBuffers, b.name))).ToArray();
        _masters = _parameters.Select(p => p.Master).ToArray();
    }

    /// <summary>Copies the master weights (and float buffers) into the bf16 network and sets its mode; returns that network.</summary>
    public nn.Module PullWeights(bool training)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (master, copy) in _parameters) copy.copy_(master);
        foreach (var (master, copy) in _buffers) copy.copy_(master);
        if (training) Copy.train(); else Copy.eval();
        return Copy;
    }

    /// <summary>
    /// Adds the bf16 network's gradients, in fp32, to the master weights' gradients (accumulated by autograd exactly as a
    /// backward pass would) and clears the copy's. Float buffers a training forward changed (running statistics) go up too.
    /// </summary>
    public void PushGradients()
    {
        using var scope = NewDisposeScope();
        var masters = new List<Tensor>(_parameters.Length);
        var gradients = new List<Tensor>(_parameters.Length);
        foreach (var (master, copy) in _parameters)
        {
            if (copy.grad is not { } g) continue;
            masters.Add(master);
            gradients.Add(g.to_type(ScalarType.Float32));
        }
        if (masters.Count > 0) autograd.backward(masters, gradients);
        Copy.zero_grad();
        using var _ = no_grad();
        foreach (var (master, copy) in _buffers) master.copy_(copy);
    }

    public IReadOnlyList<Tensor> MasterParameters => _masters;

    private static Tensor Find(Dictionary<string, Tensor> byName, string name) =>
        byName.TryGetValue(name, out var t) ? t : throw new ArgumentException($"the bf16 copy has no tensor '{name}': it is not the master's architecture");

    public void Dispose() => Copy.Dispose();
}
