using static TorchSharp.torch;

namespace KneeOnnx.Tests.Fixtures;

public static class Tensors
{
    /// <summary>Same shape and bit-for-bit the same values.</summary>
    public static bool Identical(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
