using KneeOnnx.Training.LibTorch;

namespace KneeOnnx.Tests;

/// <summary>--threads bounds the process's own .NET loops as well as libtorch's pool (they were left at every core).</summary>
public class HostParallelismTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Loops_never_run_more_bodies_at_once_than_the_threads_asked_for(int threads)
    {
        try
        {
            TorchDevice.SetThreads(threads);
            Assert.InRange(MostAtOnce(), 1, threads);
        }
        finally
        {
            TorchDevice.SetThreads(0);
        }
    }

    [Fact]
    public void A_count_out_of_range_is_refused_with_the_option_named()
    {
        var e = Assert.Throws<ArgumentException>(() => HostParallelism.Limit(-1));
        Assert.Contains("--threads", e.Message);
        Assert.Contains("-1", e.Message);
    }

    /// <summary>The most loop bodies seen running together; each waits long enough for the pool to start others.</summary>
    private static int MostAtOnce()
    {
        int running = 0, most = 0;
        Parallel.For(0, 4 * Environment.ProcessorCount + 8, HostParallelism.Options, _ =>
        {
            int now = Interlocked.Increment(ref running);
            int seen;
            while ((seen = Volatile.Read(ref most)) < now && Interlocked.CompareExchange(ref most, now, seen) != seen) { }
            Thread.Sleep(20);
            Interlocked.Decrement(ref running);
        });
        return most;
    }
}
