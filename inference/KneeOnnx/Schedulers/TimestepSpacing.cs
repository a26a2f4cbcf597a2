namespace KneeOnnx.Schedulers;

/// <summary>
/// "Trailing" spacing of S model calls over T training steps: t_i = round(T − i·T/S) − 1, so sampling always starts
/// at t = T−1 (pure noise), as Lin et al. 2024 recommend; S = T gives T−1 … 0.
/// </summary>
public static class TimestepSpacing
{
    public static int[] Trailing(int trainTimesteps, int steps)
    {
        if (steps < 1 || steps > trainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), $"--steps must be in 1..{trainTimesteps} (the model's T), got {steps}");
        var ts = new int[steps];
        for (int i = 0; i < steps; i++)
            ts[i] = (int)Math.Round(trainTimesteps - i * (double)trainTimesteps / steps, MidpointRounding.AwayFromZero) - 1;
        return ts;
    }
}
