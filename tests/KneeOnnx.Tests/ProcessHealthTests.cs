using System.Diagnostics;
using System.Runtime.InteropServices;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests;

/// <summary>The long-run health line names the threads that used the CPU, by the kernel's accounting, as .NET reads it too.</summary>
public class ProcessHealthTests
{
    [DllImport("libc")]
    private static extern int gettid();

    /// <summary>
    /// A named thread spins until .NET's own reading of its CPU time (ProcessThread.TotalProcessorTime, a second reader
    /// of the kernel's accounting) has grown by 0.4 s, however busy the machine is; the sample must list it first, with
    /// that time to within two 10 ms ticks and 10 %, under its name, and a thread that only waited must not be listed.
    /// </summary>
    [Fact]
    public void TheThreadThatSpunIsTheBusiestOneWithItsCpuTime()
    {
        if (!OperatingSystem.IsLinux()) return; // the thread accounting read is Linux's /proc
        using var spun = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        int spinnerId = 0, waiterId = 0;
        TimeSpan Cpu(int tid)
        {
            using var process = Process.GetCurrentProcess();
            return process.Threads.Cast<ProcessThread>().Single(t => t.Id == tid).TotalProcessorTime;
        }
        using var ready = new CountdownEvent(2);
        using var go = new ManualResetEventSlim();
        var spinner = new Thread(() =>
        {
            spinnerId = gettid();
            ready.Signal();
            go.Wait();
            double x = 0;
            var start = Cpu(spinnerId);
            while ((Cpu(spinnerId) - start).TotalSeconds < 0.4)
                for (int i = 0; i < 200_000; i++) x += Math.Sqrt(x + i);
            GC.KeepAlive(x);
            spun.Set();
            done.Wait(); // alive until sampled: an ended thread leaves /proc with its times
        }) { Name = "kneeSpinner" };
        var waiter = new Thread(() => { waiterId = gettid(); ready.Signal(); done.Wait(); }) { Name = "kneeWaiter" };
        spinner.Start();
        waiter.Start();
        ready.Wait();
        var before = Cpu(spinnerId);
        var health = new ProcessHealth();
        go.Set();
        spun.Wait();
        var sample = health.Sample();
        double expected = (Cpu(spinnerId) - before).TotalSeconds;
        string line = new ProcessHealth().Line();
        done.Set();
        spinner.Join();
        waiter.Join();

        var first = sample.BusiestFirst[0];
        Assert.Equal(spinnerId, first.Id);
        Assert.Equal("kneeSpinner", first.Name);
        Assert.True(Math.Abs(first.Seconds - expected) <= 0.02 + 0.1 * expected, $"sampled {first.Seconds:F2} s, .NET reads {expected:F2} s");
        Assert.DoesNotContain(sample.BusiestFirst, t => t.Id == waiterId);
        Assert.StartsWith("  process: ", line);
    }
}
