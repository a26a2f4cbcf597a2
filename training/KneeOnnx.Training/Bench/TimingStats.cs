using System.Diagnostics;

namespace KneeOnnx.Training.Bench;

/// <summary>Wall times of repeated runs of one action, after warm-up runs that are not counted.</summary>
public sealed record TimingStats(double MedianSeconds, double MinSeconds, double MaxSeconds, int Repeats)
{
    /// <summary>(max − min) / median: how much the repeats disagree.</summary>
    public double Spread => MedianSeconds > 0 ? (MaxSeconds - MinSeconds) / MedianSeconds : 0;

    public static TimingStats Measure(Action action, int warmup, int repeats)
    {
        if (repeats < 1) throw new ArgumentException($"--repeats must be at least 1, got {repeats}");
        for (int i = 0; i < warmup; i++) action();
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        return Of(times);
    }

    public static TimingStats Of(IReadOnlyList<double> seconds) => new(Median(seconds), seconds.Min(), seconds.Max(), seconds.Count);

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
