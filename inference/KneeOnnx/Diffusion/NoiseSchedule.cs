namespace KneeOnnx.Diffusion;

/// <summary>
/// The forward-process variance schedule β₁..β_T and the quantities derived from it (Ho et al. 2020, eq. 4).
/// Index t runs 0..T-1 (timestep t here is the paper's t+1). Immutable; computed once in double precision so
/// the training side (TorchSharp) and the inference side (ONNX Runtime) use bit-identical coefficients.
/// </summary>
public sealed class NoiseSchedule
{
    public const string LinearKind = "linear";
    public const string CosineKind = "cosine";

    public string Kind { get; }
    /// <summary>True when the schedule was rescaled so ᾱ at the last step is exactly 0 (<see cref="WithZeroTerminalSnr"/>).</summary>
    public bool ZeroTerminalSnr { get; }
    public int TrainTimesteps { get; }
    public double BetaStart { get; }
    public double BetaEnd { get; }
    public IReadOnlyList<double> Betas => _betas;
    /// <summary>ᾱ_t = Π_{s≤t} (1-β_s), accumulated in one pass.</summary>
    public IReadOnlyList<double> AlphaBars => _alphaBars;

    private readonly double[] _betas;
    private readonly double[] _alphaBars;

    private NoiseSchedule(string kind, double betaStart, double betaEnd, double[] betas, bool zeroTerminalSnr = false)
    {
        Kind = kind;
        ZeroTerminalSnr = zeroTerminalSnr;
        BetaStart = betaStart;
        BetaEnd = betaEnd;
        TrainTimesteps = betas.Length;
        _betas = betas;
        _alphaBars = new double[betas.Length];
        double running = 1.0;
        for (int t = 0; t < betas.Length; t++)
        {
            running *= 1.0 - betas[t];
            _alphaBars[t] = running;
        }
    }

    /// <summary>The report's schedule: β linear from 1e-4 to 0.02 over T=1000.</summary>
    public static NoiseSchedule Default => Linear(1000, 1e-4, 0.02);

    public static NoiseSchedule Linear(int timesteps, double betaStart, double betaEnd)
    {
        Validate(timesteps);
        if (!(betaStart > 0 && betaEnd < 1 && betaStart <= betaEnd))
            throw new ArgumentOutOfRangeException(nameof(betaStart), $"beta range must satisfy 0 < start <= end < 1, got {betaStart}..{betaEnd}");
        var betas = new double[timesteps];
        for (int t = 0; t < timesteps; t++)
            betas[t] = timesteps == 1 ? betaStart : betaStart + (betaEnd - betaStart) * t / (timesteps - 1);
        return new NoiseSchedule(LinearKind, betaStart, betaEnd, betas);
    }

    /// <summary>Nichol &amp; Dhariwal 2021, eq. 17, with s = 0.008 and β clipped at 0.999.</summary>
    public static NoiseSchedule Cosine(int timesteps)
    {
        Validate(timesteps);
        const double s = 0.008;
        static double F(double u) => Math.Pow(Math.Cos((u + s) / (1 + s) * Math.PI / 2), 2);
        var betas = new double[timesteps];
        for (int t = 0; t < timesteps; t++)
            betas[t] = Math.Min(1 - F((t + 1.0) / timesteps) / F((double)t / timesteps), 0.999);
        return new NoiseSchedule(CosineKind, betas[0], betas[^1], betas);
    }

    public static NoiseSchedule Create(string kind, int timesteps, double betaStart, double betaEnd, bool zeroTerminalSnr = false)
    {
        var schedule = kind switch
        {
            LinearKind => Linear(timesteps, betaStart, betaEnd),
            CosineKind => Cosine(timesteps),
            _ => throw new ArgumentException($"unknown beta schedule '{kind}' (expected {LinearKind} or {CosineKind})", nameof(kind)),
        };
        return zeroTerminalSnr ? schedule.WithZeroTerminalSnr() : schedule;
    }

    /// <summary>
    /// Lin et al. 2024, Algorithm 1: shift and scale √ᾱ so its last value is 0 and its first is unchanged, then recover β.
    /// The common linear schedule leaves √ᾱ_T ≈ 0.0068 of the image in the "pure noise" the sampler starts from, so a
    /// model learns to read the mean brightness from that residue and at sampling, given true noise, drifts in exposure.
    /// Rescaled, the last step carries no signal: ε-prediction becomes undefined there (x̂₀ = (x−σε̂)/0), so it is used with v-prediction.
    /// </summary>
    public NoiseSchedule WithZeroTerminalSnr()
    {
        if (ZeroTerminalSnr) return this;
        if (TrainTimesteps < 2) throw new ArgumentException("zero terminal SNR needs at least 2 timesteps");
        double first = Math.Sqrt(_alphaBars[0]), last = Math.Sqrt(_alphaBars[^1]);
        var betas = new double[TrainTimesteps];
        double previous = 1.0;
        for (int t = 0; t < TrainTimesteps; t++)
        {
            double root = (Math.Sqrt(_alphaBars[t]) - last) * first / (first - last);
            double alphaBar = t == TrainTimesteps - 1 ? 0.0 : root * root;
            betas[t] = 1 - alphaBar / previous;
            previous = alphaBar;
        }
        return new NoiseSchedule(Kind, BetaStart, BetaEnd, betas, zeroTerminalSnr: true);
    }

    /// <summary>ᾱ at t, with ᾱ_{-1} = 1 so the last reverse step lands on x₀ exactly (diffusers' set_alpha_to_one).</summary>
    public double AlphaBarAt(int t) => t < 0 ? 1.0 : _alphaBars[t];

    /// <summary>Signal-to-noise ratio ᾱ/(1-ᾱ), used by min-SNR loss weighting.</summary>
    public double Snr(int t) => _alphaBars[t] / (1 - _alphaBars[t]);

    /// <summary>σ_t = √((1 − ᾱ_t) / ᾱ_t), the noise level in the variance-exploding view (EDM's σ); ∞ where ᾱ_t = 0.</summary>
    public double NoiseToSignal(int t) => _alphaBars[t] > 0 ? Math.Sqrt((1 - _alphaBars[t]) / _alphaBars[t]) : double.PositiveInfinity;

    private static void Validate(int timesteps)
    {
        if (timesteps < 1 || timesteps > 100_000)
            throw new ArgumentOutOfRangeException(nameof(timesteps), $"number of timesteps must be in 1..100000, got {timesteps}");
    }
}
