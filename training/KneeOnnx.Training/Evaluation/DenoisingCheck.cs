using KneeOnnx.Randomness;
using KneeOnnx.Runtime;
using KneeOnnx.Schedulers;
using KneeOnnx.Training.Data;
using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Training.Evaluation;

/// <summary>One timestep of the denoising check.</summary>
public sealed record DenoisingRow
{
    public required int Timestep { get; init; }
    public required double AlphaBar { get; init; }
    /// <summary>Mean squared error of the model's clean estimate x̂₀ against x₀, in the model's space (pixels or scaled latents).</summary>
    public required double DenoisedMse { get; init; }
    /// <summary>The same error for the average of the checked images, the best answer that ignores x_t.</summary>
    public required double AverageImageMse { get; init; }
    /// <summary>Mean squared error of the implied noise estimate ε̂ against the ε drawn.</summary>
    public required double NoiseMse { get; init; }
}

/// <summary>The denoising check's rows, and what it was run on.</summary>
public sealed record DenoisingReport
{
    public required int Images { get; init; }
    public required long Seed { get; init; }
    public required IReadOnlyList<DenoisingRow> Rows { get; init; }
}

/// <summary>
/// How well a model recovers real val images it never trained on from known noise, in one network call per timestep: x₀
/// (the image, or for a latent model its encoding), x_t = √ᾱ·x₀ + √(1−ᾱ)·ε with ε drawn here, the model asked with
/// the image's own grade (and side), and x̂₀, ε̂ read from its output the way the samplers read it. No sampling, so it
/// takes seconds; it separates a model that cannot start an image (x̂₀ at high t worse than the average image, the
/// failure of ε-prediction on a latent grid) from one that starts well but finishes poorly (high FID with good x̂₀).
/// </summary>
public static class DenoisingCheck
{
    /// <summary>Fractions of T checked; the last step T−1 is added.</summary>
    public static readonly double[] Fractions = [0.1, 0.3, 0.5, 0.7, 0.9];

    /// <param name="realFolder">real images, &lt;grade&gt;/*.png (the val split), read at the size the model writes.</param>
    /// <param name="runtime">the sessions' options (threads, spinning); the check runs on the CPU.</param>
    public static DenoisingReport Run(string modelPath, string realFolder, int perGrade, long seed, TextWriter log, RuntimeOptions? runtime = null)
    {
        using var model = KneeModel.Open(modelPath, runtime ?? new RuntimeOptions { Provider = ProviderRequest.Cpu });
        var info = model.Info;
        var val = ImageSet.Load(realFolder, info.OutputImageSize);
        int values = info.Channels * info.ImageSize * info.ImageSize;
        var chosen = Enumerable.Range(0, val.Count).GroupBy(i => val.Grades[i]).SelectMany(g => g.Take(perGrade)).Order().ToArray();
        var (encoder, side) = info.IsLatent ? OpenEncoder(model) : ((InferenceSession?)null, info.ImageSize);
        float[][] clean;
        using (encoder)
            clean = chosen.Select(i => CleanSample(encoder, side, val.Images[i], values)).ToArray();
        var average = new double[values];
        foreach (var x in clean)
            for (int v = 0; v < values; v++) average[v] += x[v] / (double)clean.Length;

        using var estimator = new NoiseEstimator(model);
        var timesteps = Fractions.Select(f => (int)Math.Round(f * info.Schedule.TrainTimesteps)).Append(info.Schedule.TrainTimesteps - 1).Distinct().ToArray();
        var rows = new List<DenoisingRow>();
        foreach (int t in timesteps)
        {
            double ab = info.Schedule.AlphaBarAt(t);
            var estimate = DenoisedEstimate.At(info.PredictionType, ab);
            double denoised = 0, averageError = 0, noise = 0;
            var xt = new float[values];
            var eps = new float[values];
            var output = new float[values];
            for (int k = 0; k < chosen.Length; k++)
            {
                GaussianStream.For(seed, t, k).Fill(eps);
                for (int v = 0; v < values; v++) xt[v] = (float)(Math.Sqrt(ab) * clean[k][v] + Math.Sqrt(1 - ab) * eps[v]);
                int index = chosen[k];
                estimator.Predict(xt, 1, t, val.Grades[index], 1.0, output, info.IsSideConditioned ? val.Sides[index] : KneeSides.None);
                for (int v = 0; v < values; v++)
                {
                    double dx = estimate.Denoised(xt[v], output[v], clip: false) - clean[k][v];
                    double da = average[v] - clean[k][v];
                    double de = estimate.Noise(xt[v], output[v]) - eps[v];
                    denoised += dx * dx;
                    averageError += da * da;
                    noise += de * de;
                }
            }
            double n = (double)chosen.Length * values;
            rows.Add(new DenoisingRow { Timestep = t, AlphaBar = ab, DenoisedMse = denoised / n, AverageImageMse = averageError / n, NoiseMse = noise / n });
            log.WriteLine($"  denoising check t = {t}: x̂₀ MSE {denoised / n:F4} (average image {averageError / n:F4}), ε̂ MSE {noise / n:F4}");
        }
        return new DenoisingReport { Images = chosen.Length, Seed = seed, Rows = rows };
    }

    /// <summary>The encoder beside a latent model's decoder (its folder's vae_encoder), refused unless it is that decoder's pair.</summary>
    private static (InferenceSession Session, int Side) OpenEncoder(KneeModel model)
    {
        string decoder = model.Decoder!.Path;
        string folder = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(decoder))!)!;
        var files = Autoencoder.AutoencoderFiles.Open(folder, "the model's autoencoder folder");
        if (files.DecoderSha256 != model.DecoderSha256)
            throw new ArgumentException($"{files.EncoderPath}: not the encoder paired with the model's decoder ({decoder})");
        return (new InferenceSession(files.EncoderPath), files.ImageSize);
    }

    /// <summary>x₀ in the model's space: the image itself, or its encoding.</summary>
    private static float[] CleanSample(InferenceSession? encoder, int side, float[] image, int values)
    {
        if (encoder is null) return image;
        using var input = OrtValue.CreateTensorValueFromMemory(image, [1, 1, side, side]);
        using var run = new RunOptions();
        using var latent = encoder.Run(run, [AutoencoderContract.ImageName], [input], [AutoencoderContract.LatentName]);
        var result = latent[0].GetTensorDataAsSpan<float>().ToArray();
        if (result.Length != values) throw new InvalidDataException($"the encoder gives {result.Length} values per image; the U-Net takes {values}");
        return result;
    }
}
