using System.Globalization;

namespace KneeOnnx.Generation;

/// <summary>
/// The <c>--guide-model G --autoguidance W</c> pair as every verb that generates takes it: both or neither, since a
/// weight without a guide has nothing to move away from and a guide without a weight does nothing.
/// </summary>
public static class AutoGuidanceOptions
{
    /// <returns>the weight to sample with: <paramref name="weight"/>, or 1 (off) when neither is given.</returns>
    public static double Weight(string? guideModel, double? weight)
    {
        if (weight is not null && guideModel is null) throw new ArgumentException("--autoguidance needs --guide-model, the weaker model it guides away from");
        if (guideModel is not null && weight is null) throw new ArgumentException($"--guide-model {guideModel} needs --autoguidance W, the weight (e.g. 2)");
        if (guideModel is not null && weight == 1) throw new ArgumentException("--autoguidance 1 is no autoguidance: leave out --guide-model, or give another weight");
        if (weight is double w && !(w >= 0 && w <= SamplerSettings.MaxGuidance))
            throw new ArgumentException($"--autoguidance must be in 0..{SamplerSettings.MaxGuidance}, got {w.ToString(CultureInfo.InvariantCulture)}");
        return weight ?? 1;
    }
}
