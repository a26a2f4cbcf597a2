using KneeOnnx.Validation;

namespace KneeOnnx.Training.LibTorch;

/// <summary>
/// The cap on the process's own .NET parallel loops (image decoding, nearest-neighbour search, kernel matrices), set with
/// libtorch's thread count by <see cref="TorchDevice.SetThreads"/>: <c>--threads 1</c> is asked for to leave the other
/// cores to a training run, and a loop that took every core anyway would starve that run for minutes.
/// </summary>
public static class HostParallelism
{
    // -1 = no cap (the .NET default).
    private static volatile int maxDegree = -1;

    /// <summary>0 = no cap; otherwise at most that many loop bodies at once (the range is <see cref="ThreadCount"/>'s).</summary>
    public static void Limit(int threads) => maxDegree = ThreadCount.Validate(threads) == 0 ? -1 : threads;

    /// <summary>Options for one Parallel loop under the current cap.</summary>
    public static ParallelOptions Options => new() { MaxDegreeOfParallelism = maxDegree };
}
