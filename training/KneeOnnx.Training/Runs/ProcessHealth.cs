using System.Diagnostics;
using System.Globalization;

namespace KneeOnnx.Training.Runs;

/// <summary>CPU seconds one thread used in a <see cref="ProcessHealth"/> window.</summary>
public readonly record struct ThreadUse(int Id, string Name, double Seconds);

/// <summary>What a <see cref="ProcessHealth"/> window measured.</summary>
public sealed record HealthSample(double WindowSeconds, IReadOnlyList<ThreadUse> BusiestFirst, double GcPauseSeconds, long ManagedBytes, long ResidentBytes);

/// <summary>
/// A periodic line on where a long run's CPU goes, so that a run that slows down says why: the busiest threads since the
/// last line by name (libtorch's workers, .NET's finalizer and GC threads), the GC's pauses, the managed heap and the
/// resident set. Training processes here have been seen to drop from 12–15 to 7–9 crops/s with both cores busy; this is
/// the evidence a next occurrence leaves in the log. Thread times come from Linux's /proc; elsewhere that part is left out.
/// </summary>
public sealed class ProcessHealth
{
    /// <summary>Linux reports thread times in USER_HZ, 100 on every architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;
    private const string TaskFolder = "/proc/self/task";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private Dictionary<int, (string Name, long Ticks)> _previous = ReadThreads();
    private TimeSpan _previousPause = GC.GetTotalPauseDuration();
    private readonly Stopwatch _sinceLast = Stopwatch.StartNew();

    /// <summary>Measures the window since the previous sample (or since construction) and starts the next one.</summary>
    public HealthSample Sample()
    {
        double seconds = Math.Max(1e-9, _sinceLast.Elapsed.TotalSeconds);
        _sinceLast.Restart();
        var now = ReadThreads();
        var busiest = now
            .Select(t => new ThreadUse(t.Key, t.Value.Name, (t.Value.Ticks - (_previous.TryGetValue(t.Key, out var before) ? before.Ticks : 0)) / TicksPerSecond))
            .Where(t => t.Seconds > 0)
            .OrderByDescending(t => t.Seconds)
            .ToList();
        _previous = now;
        var pause = GC.GetTotalPauseDuration();
        double pauseSeconds = (pause - _previousPause).TotalSeconds;
        _previousPause = pause;
        using var process = Process.GetCurrentProcess();
        return new HealthSample(seconds, busiest, pauseSeconds, GC.GetTotalMemory(false), process.WorkingSet64);
    }

    /// <summary>The sample as one log line; a diagnostic must never stop a run, so a failure to measure is a line too.</summary>
    public string Line(int busiestThreads = 4)
    {
        try
        {
            var s = Sample();
            string threads = s.BusiestFirst.Count == 0 ? "thread times unavailable"
                : string.Format(Inv, "CPU {0:F2} cores over {1:F0} s; busiest threads {2}", s.BusiestFirst.Sum(t => t.Seconds) / s.WindowSeconds, s.WindowSeconds,
                    string.Join(", ", s.BusiestFirst.Take(busiestThreads).Select(t => string.Format(Inv, "{0} {1:F0}%", t.Name, 100 * t.Seconds / s.WindowSeconds))));
            return string.Format(Inv, "  process: {0}; GC paused {1:F1}% of the time ({2}/{3}/{4} collections), managed heap {5:F0} MB, resident {6:F0} MB",
                threads, 100 * s.GcPauseSeconds / s.WindowSeconds, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), s.ManagedBytes / 1e6, s.ResidentBytes / 1e6);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"  process: not measured ({e.GetType().Name}: {e.Message.Split('\n')[0]})";
        }
    }

    /// <summary>Thread id → (name, user + system ticks) from /proc/self/task/*/stat; empty where there is no /proc.</summary>
    private static Dictionary<int, (string Name, long Ticks)> ReadThreads()
    {
        var threads = new Dictionary<int, (string, long)>();
        if (!Directory.Exists(TaskFolder)) return threads;
        foreach (var dir in Directory.EnumerateDirectories(TaskFolder))
        {
            string text;
            try { text = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // the thread ended between listing and reading
            // "tid (comm) state ppid ...": comm may hold spaces or parentheses, so fields are counted after the last ')'.
            int open = text.IndexOf('('), close = text.LastIndexOf(')');
            if (open < 0 || close < open || close + 2 > text.Length || !int.TryParse(text.AsSpan(0, open).Trim(), Inv, out int id)) continue;
            var fields = text[(close + 2)..].Split(' ');
            // fields[0] is the state (stat field 3), so utime (field 14) and stime (15) are at 11 and 12.
            if (fields.Length > 12 && long.TryParse(fields[11], Inv, out long user) && long.TryParse(fields[12], Inv, out long system))
                threads[id] = (text[(open + 1)..close], user + system);
        }
        return threads;
    }
}
