using System.Globalization;

namespace KneeOnnx.Generation;

/// <summary>
/// The <c>--guide-model G --autoguidance W</c> pair as every verb that generates takes it: both or neither, since a
/// weight without a guide has nothing to move away from and a guide without a weight does nothing.
/// </summary>
public static class AutoGuidanceOptions
{
    /// <returns>the weight to sample with: <paramref name="weight"/>, or 1 (off) when neither is given; its range is
    /// <see cref="SamplerSettings"/>' to check.</returns>
    public static double Weight(string? guideModel, double? weight)
    {
        if (weight is not null && guideModel is null) throw new ArgumentException("--autoguidance needs --guide-model, the weaker model it guides away from");
        if (guideModel is not null && weight is null) throw new ArgumentException($"--guide-model {guideModel} needs --autoguidance W, the weight (e.g. 2)");
        if (guideModel is not null && weight == 1) throw new ArgumentException("--autoguidance 1 is no autoguidance: leave out --guide-model, or give another weight");
        return weight ?? 1;
    }

    /// <summary>The request as a library caller makes it (<paramref name="weight"/> 1 = off), checked as the options are.</summary>
    public static void CheckPair(string? guideModel, double weight) => Weight(guideModel, guideModel is null && weight == 1 ? null : weight);

    /// <summary>How the log lines of every verb name the guide: ", autoguidance W by FILE (sha256 …, preset)", or "" without one.</summary>
    public static string Describe(double weight, Runtime.KneeModel? guide) => guide is null ? ""
        : $", autoguidance {weight.ToString(CultureInfo.InvariantCulture)} by {guide.Path} (sha256 {guide.Sha256[..12]}, {guide.Info.Metadata.GetValueOrDefault(Runtime.ModelContract.Keys.Preset, "?")})";
}
