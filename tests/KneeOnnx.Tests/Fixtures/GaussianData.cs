namespace KneeOnnx.Tests;

/// <summary>
/// Data x₀ ~ N(μ, s²) in every coordinate, diffused as x_t = α x₀ + σ ε (α = √ᾱ, σ = √(1−ᾱ)). Everything a sampler
/// needs has a closed form: Var x_t = α²s² + σ², the optimal ε-prediction E[ε | x_t] = σ(x_t − αμ)/Var x_t, the
/// posterior mean E[x₀ | x_t] = μ + αs²(x_t − αμ)/Var x_t, and the probability-flow ODE, which keeps each point's
/// standard score (x_t − αμ)/√Var x_t fixed as t changes (a monotone map between one-dimensional Gaussians).
/// </summary>
public sealed record GaussianData(double Mean, double StdDev)
{
    private double Variance(double alphaBar) => alphaBar * StdDev * StdDev + (1 - alphaBar);

    public void ExactNoise(double alphaBar, ReadOnlySpan<float> x, Span<float> eps)
    {
        double alpha = Math.Sqrt(alphaBar), sigma = Math.Sqrt(1 - alphaBar), v = Variance(alphaBar);
        for (int i = 0; i < x.Length; i++) eps[i] = (float)(sigma * (x[i] - alpha * Mean) / v);
    }

    /// <summary>n standard normal draws (Box–Muller) from <paramref name="rng"/>, for ancestral samplers' fresh noise.</summary>
    public static float[] StandardNormals(Random rng, int n)
    {
        var z = new float[n];
        for (int i = 0; i < n; i++) z[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return z;
    }

    /// <summary>
    /// Mean and standard deviation of n samples that <paramref name="scheduler"/> draws from standard normal start noise
    /// when every call gets this distribution's exact network output (ε or v, as <paramref name="velocity"/> says).
    /// </summary>
    public (double Mean, double Std) SampleThrough(KneeOnnx.Schedulers.IDiffusionScheduler scheduler, KneeOnnx.Diffusion.NoiseSchedule schedule, int n, int seed,
                                                   bool velocity = false)
    {
        var rng = new Random(seed);
        float[] Gaussian() => StandardNormals(rng, n);
        float[] x = Gaussian();
        var output = new float[n];
        for (int i = 0; i < scheduler.Timesteps.Count; i++)
        {
            double alphaBar = schedule.AlphaBarAt(scheduler.Timesteps[i]);
            if (velocity) ExactVelocity(alphaBar, x, output);
            else ExactNoise(alphaBar, x, output);
            scheduler.Step(i, output, x, Gaussian);
        }
        double mean = x.Average(v => (double)v);
        return (mean, Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (n - 1)));
    }

    /// <summary>The exact v-prediction E[v | x_t] = √ᾱ·E[ε | x_t] − √(1−ᾱ)·E[x₀ | x_t], from the two closed forms.</summary>
    public void ExactVelocity(double alphaBar, ReadOnlySpan<float> x, Span<float> velocity)
    {
        double alpha = Math.Sqrt(alphaBar), sigma = Math.Sqrt(1 - alphaBar), v = Variance(alphaBar);
        for (int i = 0; i < x.Length; i++)
            velocity[i] = (float)(alpha * sigma * (x[i] - alpha * Mean) / v - sigma * PosteriorMean(alphaBar, x[i]));
    }

    public double PosteriorMean(double alphaBar, double x)
    {
        double alpha = Math.Sqrt(alphaBar);
        return Mean + alpha * StdDev * StdDev * (x - alpha * Mean) / Variance(alphaBar);
    }

    /// <summary>The point with standard score <paramref name="score"/> at noise level ᾱ on the probability-flow ODE.</summary>
    public double OnFlow(double alphaBar, double score) => Math.Sqrt(alphaBar) * Mean + Math.Sqrt(Variance(alphaBar)) * score;
}
