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
