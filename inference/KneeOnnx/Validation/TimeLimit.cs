namespace KneeOnnx.Validation;

/// <summary>--max-minutes of the verbs that stop on time and continue when run again.</summary>
public static class TimeLimit
{
    /// <returns>the moment <paramref name="minutes"/> after <paramref name="now"/>; null when no limit was given.</returns>
    public static DateTime? StopBy(double? minutes, DateTime now) => minutes is double m
        ? m > 0 && double.IsFinite(m) ? now.AddMinutes(m) : throw new ArgumentException($"--max-minutes must be a positive number of minutes, got {m}")
        : null;
}
