using System.Globalization;
using System.Text.RegularExpressions;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests;

/// <summary>The long-run health line names the threads that used the CPU, from the kernel's own accounting.</summary>
public class ProcessHealthTests
{
    /// <summary>
    /// A named thread that spins for 0.6 s while this test's other thread sleeps must be the busiest thread of the line,
    /// at about its share of the window (the kernel's per-thread times, 10 ms ticks); the sleeping thread, alive as well,
    /// must not be listed.
    /// </summary>
    [Fact]
    public void TheThreadThatSpunIsTheBusiestOneNamed()
    {
        if (!Directory.Exists("/proc/self/task")) return; // the thread accounting is Linux's; elsewhere the line says so
        using var spun = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var health = new ProcessHealth();
        var spinner = new Thread(() =>
        {
            var until = DateTime.UtcNow.AddSeconds(0.6);
            double x = 0;
            while (DateTime.UtcNow < until) x += Math.Sqrt(x + 1);
            GC.KeepAlive(x);
            spun.Set();
            done.Wait(); // alive until the line is read: an ended thread leaves /proc with its times
        }) { Name = "kneeSpinner" };
        var sleeper = new Thread(() => done.Wait()) { Name = "kneeSleeper" };
        var window = System.Diagnostics.Stopwatch.StartNew();
        spinner.Start();
        sleeper.Start();
        spun.Wait();
        string line = health.Line();
        double seconds = window.Elapsed.TotalSeconds;
        done.Set();
        spinner.Join();
        sleeper.Join();

        var busiest = Regex.Match(line, @"busiest threads (\S+) (\d+) ?%");
        Assert.True(busiest.Success, line);
        Assert.Equal("kneeSpinner", busiest.Groups[1].Value);
        double share = double.Parse(busiest.Groups[2].Value, CultureInfo.InvariantCulture) / 100;
        double expected = 0.6 / seconds;
        Assert.True(Math.Abs(share - expected) < 0.25, $"spinner's share {share:P0}, expected about {expected:P0}: {line}");
        Assert.DoesNotContain("kneeSleeper", line);
    }
}
