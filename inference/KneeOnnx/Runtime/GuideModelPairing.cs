namespace KneeOnnx.Runtime;

/// <summary>
/// Whether a second model can guide a first one (autoguidance, Karras et al. 2024: ε = ε_guide + w·(ε_main − ε_guide)).
/// The two outputs are mixed value by value at every step, so both models must denoise the same samples on the same
/// noise schedule, predict the same quantity, and understand the same grade and side inputs; a latent pair must also work
/// in the same latent space, which its decoders' shared autoencoder hash (<see cref="AutoencoderContract.Keys.AutoencoderSha256"/>)
/// and scale factor say — the decoders themselves may differ (a decoder fine-tuned with the encoder frozen keeps the space).
/// </summary>
public static class GuideModelPairing
{
    /// <summary>Throws <see cref="InvalidModelException"/> naming both files and the first difference found.</summary>
    public static void Check(string mainPath, ModelInfo main, DecoderInfo? mainDecoder, string guidePath, ModelInfo guide, DecoderInfo? guideDecoder)
    {
        if (Difference(main, mainDecoder, guide, guideDecoder) is { } why)
            throw new InvalidModelException($"{guidePath}: cannot guide {mainPath}: {why}");
    }

    /// <summary>The first way the two models differ that makes their outputs unmixable, in words; null when they pair.</summary>
    public static string? Difference(ModelInfo main, DecoderInfo? mainDecoder, ModelInfo guide, DecoderInfo? guideDecoder)
    {
        if (main.IsLatent != guide.IsLatent)
            return main.IsLatent ? "it is a pixel model and the model is a latent one" : "it is a latent model and the model is a pixel one";
        if (guide.Channels != main.Channels || guide.ImageSize != main.ImageSize)
            return $"it denoises {guide.Channels}×{guide.ImageSize}² samples, the model {main.Channels}×{main.ImageSize}²";
        if (guide.PredictionType != main.PredictionType)
            return $"it predicts {guide.PredictionType}, the model {main.PredictionType}";
        if (ScheduleDifference(main.Schedule, guide.Schedule) is { } schedule)
            return schedule;
        if (!guide.GradeNames.SequenceEqual(main.GradeNames))
            return $"its grades are {string.Join(", ", guide.GradeNames)}, the model's {string.Join(", ", main.GradeNames)}";
        if (guide.IsConditional != main.IsConditional)
            return guide.IsConditional ? "it is grade-conditioned and the model is not" : "it is not grade-conditioned and the model is";
        if (guide.IsSideConditioned != main.IsSideConditioned)
            return guide.IsSideConditioned ? "it is side-conditioned and the model is not" : "it is not side-conditioned and the model is";
        if (mainDecoder is not null && guideDecoder is not null)
        {
            if (guideDecoder.AutoencoderSha256 != mainDecoder.AutoencoderSha256)
                return $"it was trained on the latents of autoencoder {Short(guideDecoder.AutoencoderSha256)}, the model on those of {Short(mainDecoder.AutoencoderSha256)}";
            if (guideDecoder.ScaleFactor != mainDecoder.ScaleFactor)
                return $"its latents are scaled by {guideDecoder.ScaleFactor}, the model's by {mainDecoder.ScaleFactor}";
        }
        return null;
    }

    /// <summary>A guide follows the model's classifier-free guidance too, so with a scale other than 1 it needs a null grade of its own.</summary>
    public static void CheckGuidance(string guidePath, ModelInfo guide, double guidance)
    {
        if (guidance != 1 && !guide.SupportsGuidance)
            throw new InvalidModelException($"{guidePath}: has no null grade, so as a guide it cannot follow classifier-free guidance {guidance.ToString(System.Globalization.CultureInfo.InvariantCulture)}; give --guidance 1 or another guide");
    }

    private static string? ScheduleDifference(Diffusion.NoiseSchedule main, Diffusion.NoiseSchedule guide)
    {
        if (guide.TrainTimesteps != main.TrainTimesteps)
            return $"it was trained with T = {guide.TrainTimesteps}, the model with T = {main.TrainTimesteps}";
        for (int t = 0; t < main.TrainTimesteps; t++)
            if (Math.Abs(guide.AlphaBars[t] - main.AlphaBars[t]) > 1e-9 * Math.Max(1, main.AlphaBars[t]))
                return $"its noise schedule differs from the model's ({guide.Kind}{(guide.ZeroTerminalSnr ? ", zero terminal SNR" : "")} against {main.Kind}{(main.ZeroTerminalSnr ? ", zero terminal SNR" : "")}; ᾱ at t = {t}: {guide.AlphaBars[t]:G6} against {main.AlphaBars[t]:G6})";
        return null;
    }

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha;
}
