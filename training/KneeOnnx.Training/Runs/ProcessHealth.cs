using System.Diagnostics;
using System.Globalization;

namespace KneeOnnx.Training.Runs;

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
    private Dictionary<int, (string Name, long Ticks)> _previous = ReadThreads();
    private TimeSpan _previousPause = GC.GetTotalPauseDuration();
    private readonly Stopwatch _sinceLast = Stopwatch.StartNew();

    /// <summary>One line covering the time since the previous call (or since construction).</summary>
    public string Line(int busiestThreads = 4)
    {
        double seconds = Math.Max(1e-9, _sinceLast.Elapsed.TotalSeconds);
        _sinceLast.Restart();
        var now = ReadThreads();
        var busiest = now
            .Select(t => (t.Value.Name, Seconds: (t.Value.Ticks - (_previous.TryGetValue(t.Key, out var before) ? before.Ticks : 0)) / TicksPerSecond))
            .Where(t => t.Seconds > 0)
            .OrderByDescending(t => t.Seconds)
            .ToList();
        _previous = now;
        var pause = GC.GetTotalPauseDuration();
        double pauseSeconds = (pause - _previousPause).TotalSeconds;
        _previousPause = pause;
        using var process = Process.GetCurrentProcess();
        var inv = CultureInfo.InvariantCulture;
        string threads = busiest.Count == 0 ? "thread times unavailable"
            : $"CPU {busiest.Sum(t => t.Seconds) / seconds:F2} cores over {seconds:F0} s; busiest threads "
              + string.Join(", ", busiest.Take(busiestThreads).Select(t => string.Format(inv, "{0} {1:P0}", t.Name, t.Seconds / seconds)));
        return string.Format(inv, "  process: {0}; GC paused {1:P1} of the time ({2}/{3}/{4} collections), managed heap {5:F0} MB, resident {6:F0} MB",
            threads, pauseSeconds / seconds, GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalMemory(false) / 1e6, process.WorkingSet64 / 1e6);
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
            catch (IOException) { continue; } // the thread ended between listing and reading
            // "tid (comm) state ppid ...": comm may hold spaces or parentheses, so fields are counted after the last ')'.
            int open = text.IndexOf('('), close = text.LastIndexOf(')');
            if (open < 0 || close < open || !int.TryParse(text.AsSpan(0, open).Trim(), inv, out int id)) continue;
            var fields = text[(close + 2)..].Split(' ');
            // fields[0] is the state (stat field 3), so utime (field 14) and stime (15) are at 11 and 12.
            if (fields.Length > 12 && long.TryParse(fields[11], inv, out long user) && long.TryParse(fields[12], inv, out long system))
                threads[id] = (text[(open + 1)..close], user + system);
        }
        return threads;
    }

    private static readonly IFormatProvider inv = CultureInfo.InvariantCulture;
}
