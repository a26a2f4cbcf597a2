namespace KneeOnnx.Diffusion;

/// <summary>
/// What the network's output means, spelled as diffusers spells <c>prediction_type</c> so the metadata reads the same in
/// both ecosystems: the noise ε (Ho et al. 2020) or the velocity v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans &amp; Ho 2022), which stays
/// informative where ε-prediction degenerates (at zero SNR x̂₀ = −v is still defined).
/// </summary>
public static class PredictionType
{
    public const string Epsilon = "epsilon";
    public const string Velocity = "v_prediction";
    public static readonly IReadOnlyList<string> All = [Epsilon, Velocity];

    /// <summary>The one combination that cannot sample: ε-prediction on a schedule whose last step has no signal.</summary>
    public static void RequireCompatible(string prediction, NoiseSchedule schedule)
    {
        if (!All.Contains(prediction))
            throw new ArgumentException($"prediction type '{prediction}' is not one of {string.Join(", ", All)}");
        if (prediction == Epsilon && schedule.AlphaBars[^1] == 0)
            throw new ArgumentException("ε-prediction cannot sample a zero-terminal-SNR schedule (x̂₀ = (x − σ·ε̂)/0 at its last step); use v_prediction");
    }
}
