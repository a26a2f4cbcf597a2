namespace KneeOnnx.Runtime;

/// <summary>The side value a network is fed, shared by every <see cref="INoisePredictor"/>.</summary>
public static class SideCondition
{
    /// <summary>
    /// The side input for a request: the requested side, or the null side when none is asked of a side-conditioned
    /// model; a side asked of a model without sides is refused rather than silently ignored.
    /// </summary>
    public static int Resolve(ModelInfo info, int side)
    {
        if (!info.IsSideConditioned)
            return side == KneeSides.None ? KneeSides.None
                : throw new ArgumentException($"side {KneeSides.Label(side)} requested, but this model is not side-conditioned");
        if (side == KneeSides.None) return info.NullSide;
        if (side < 0 || side > info.NullSide)
            throw new ArgumentException($"side {side} is not in this model (0..{info.NullSide}: {string.Join(", ", info.SideNames)}, any)");
        return side;
    }
}
