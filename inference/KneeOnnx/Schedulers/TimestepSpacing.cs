namespace KneeOnnx.Schedulers;

/// <summary>
/// "Trailing" spacing of S model calls over T training steps: t_i = round(T − i·T/S) − 1, so sampling always starts
/// at t = T−1 (pure noise), as Lin et al. 2024 recommend; S = T gives T−1 … 0. Halves round to even, as numpy's
/// <c>np.round</c> in diffusers' reference does, so both pick the same timesteps for every S.
/// </summary>
public static class TimestepSpacing
{
    public static int[] Trailing(int trainTimesteps, int steps)
    {
        if (steps < 1 || steps > trainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), $"--steps must be in 1..{trainTimesteps} (the model's T), got {steps}");
        var ts = new int[steps];
        for (int i = 0; i < steps; i++)
            ts[i] = (int)Math.Round(trainTimesteps - i * (double)trainTimesteps / steps, MidpointRounding.ToEven) - 1;
        return ts;
    }

    /// <summary>The spacings a sampler can take, as the CLI spells them.</summary>
    public const string TrailingName = "trailing";
    public const string KarrasName = "karras";
    public static readonly IReadOnlyList<string> Names = [TrailingName, KarrasName];

    /// <summary>EDM's largest noise level (Karras et al. 2022): beyond it a sample is noise for any practical purpose.</summary>
    public const double KarrasSigmaMax = 80;
    public const double KarrasRho = 7;

    /// <summary>The timesteps of <paramref name="spacing"/> (<see cref="Names"/>) for <paramref name="steps"/> model calls.</summary>
    public static int[] For(string spacing, Diffusion.NoiseSchedule schedule, int steps) => spacing switch
    {
        TrailingName => Trailing(schedule.TrainTimesteps, steps),
        KarrasName => Karras(schedule, steps),
        _ => throw new ArgumentException($"--spacing '{spacing}' is not one of {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// Karras et al. 2022 (EDM, eq. 5): noise levels σ_i = (σ_max^{1/ρ} + i/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ with
    /// ρ = 7, which spends most calls at low noise, where the fine texture forms; each mapped to the training timestep of
    /// nearest log σ. The first call stays at t = T−1, the level the start noise is drawn at (pure noise under a
    /// zero-terminal-SNR schedule), and the rest run from min(σ_max, σ_{T−2}) down to σ_0, so the last step onto x₀
    /// starts from the smallest trained noise level instead of trailing spacing's T/S (σ ≈ 0.17 at 20 calls on v5).
    /// Where σ_{T−1} itself is finite and at most σ_max (a short or gentle schedule), the ladder starts there, so the
    /// second call is not spent at T−2, a hair below the first.
    /// Where rounding makes two calls share a timestep, the later ones move down, keeping the list strictly decreasing.
    /// </summary>
    public static int[] Karras(Diffusion.NoiseSchedule schedule, int steps)
    {
        int T = schedule.TrainTimesteps;
        if (steps < 1 || steps > T)
            throw new ArgumentOutOfRangeException(nameof(steps), $"--steps must be in 1..{T} (the model's T), got {steps}");
        var ts = new int[steps];
        ts[0] = T - 1;
        if (steps == 1) return ts;
        double top = schedule.NoiseToSignal(T - 1);
        bool topOnLadder = double.IsFinite(top) && top <= KarrasSigmaMax;
        var logSigma = new double[topOnLadder ? T : T - 1];
        for (int t = 0; t < logSigma.Length; t++) logSigma[t] = Math.Log(schedule.NoiseToSignal(t));
        double sigmaMin = Math.Exp(logSigma[0]), sigmaMax = Math.Min(KarrasSigmaMax, Math.Exp(logSigma[^1]));
        double hi = Math.Pow(sigmaMax, 1 / KarrasRho), lo = Math.Pow(sigmaMin, 1 / KarrasRho);
        int n = topOnLadder ? steps : steps - 1, first = steps - n;
        for (int i = 0; i < n; i++)
        {
            double target = Math.Log(Math.Pow(hi + (n == 1 ? 1.0 : i / (double)(n - 1)) * (lo - hi), KarrasRho));
            int index = Array.BinarySearch(logSigma, target);
            if (index < 0)
            {
                int above = ~index; // σ rises with t: the first timestep whose log σ exceeds the target
                index = above == 0 ? 0 : above >= logSigma.Length ? logSigma.Length - 1
                    : target - logSigma[above - 1] <= logSigma[above] - target ? above - 1 : above;
            }
            ts[first + i] = index;
        }
        // Strictly decreasing and ending at or above 0: push collisions down, then lift from the end where that ran below 0.
        for (int i = 1; i < steps; i++) ts[i] = Math.Min(ts[i], ts[i - 1] - 1);
        for (int i = steps - 1; i >= 1; i--) ts[i] = Math.Max(ts[i], steps - 1 - i);
        for (int i = 1; i < steps; i++) ts[i] = Math.Min(ts[i], ts[i - 1] - 1);
        return ts;
    }

    /// <summary>
    /// The tail of <paramref name="timesteps"/> a trajectory that starts from a noised image runs (SDEdit, Meng et al.
    /// 2022; diffusers' img2img): the last ⌊S·strength⌋ of the S calls, at least one, so strength 1 keeps them all
    /// (pure noise, the image forgotten) and a small strength only the last few, near the data.
    /// </summary>
    public static int[] Partial(IReadOnlyList<int> timesteps, double strength)
    {
        if (!(strength > 0 && strength <= 1))
            throw new ArgumentOutOfRangeException(nameof(strength), $"--strength must be in (0, 1], got {strength.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        int kept = Math.Max(1, (int)Math.Floor(timesteps.Count * strength + 1e-9));
        return [.. timesteps.Skip(timesteps.Count - kept)];
    }

    /// <summary>Checks a caller-given list: strictly decreasing timesteps inside 0..T−1.</summary>
    public static int[] Validated(int trainTimesteps, IReadOnlyList<int> timesteps)
    {
        if (timesteps.Count == 0) throw new ArgumentException("the timestep list is empty");
        for (int i = 0; i < timesteps.Count; i++)
        {
            if (timesteps[i] < 0 || timesteps[i] >= trainTimesteps)
                throw new ArgumentOutOfRangeException(nameof(timesteps), $"timestep {timesteps[i]} is outside 0..{trainTimesteps - 1}");
            if (i > 0 && timesteps[i] >= timesteps[i - 1])
                throw new ArgumentException($"timesteps must strictly decrease, got {timesteps[i - 1]} then {timesteps[i]}");
        }
        return [.. timesteps];
    }
}
