namespace KneeOnnx.Validation;

/// <summary>
/// The one rule for every --threads option of both CLIs: 0 means all cores; otherwise 1 … 4 × the logical cores.
/// The cap exists because thread pools of tens of thousands (ONNX Runtime's and libtorch's alike) spend minutes
/// creating and scheduling threads before failing; more than 4 threads per core never made anything faster here.
/// </summary>
public static class ThreadCount
{
    public const int PerCore = 4;

    public static int Maximum => PerCore * Environment.ProcessorCount;

    /// <returns>the value given, once it is known to be in range.</returns>
    public static int Validate(int threads, string option = "--threads")
    {
        if (threads < 0 || threads > Maximum)
            throw new ArgumentException($"{option} must be 0 (all cores) or in 1..{Maximum} ({PerCore} × the {Environment.ProcessorCount} logical cores), got {threads}");
        return threads;
    }

    /// <summary>0 → the number of logical cores.</summary>
    /// <param name="option">What the caller calls the count, for the refusal: a CLI's option, or a library property.</param>
    public static int Resolve(int threads, string option = "--threads") => Validate(threads, option) == 0 ? Environment.ProcessorCount : threads;
}
