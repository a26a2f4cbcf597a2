namespace KneeOnnx.Runtime;

/// <summary>
/// Recognises a failed allocation in an exception from libtorch (through TorchSharp) or ONNX Runtime. Neither library
/// gives it a type of its own (TorchSharp raises ExternalException, ONNX Runtime OnnxRuntimeException), so the message
/// decides: libtorch's "CUDA out of memory" and "DefaultCPUAllocator: not enough memory", ONNX Runtime's arena
/// "Failed to allocate memory", a CUDA "out of memory" status, and the C++ std::bad_alloc both pass through.
/// </summary>
public static class OutOfMemory
{
    /// <summary>Exit code of both CLIs when a batch did not fit in memory (files already written stay intact).</summary>
    public const int ExitCode = 5;

    private static readonly string[] Markers =
    [
        "out of memory", "not enough memory", "Failed to allocate memory", "can't allocate memory", "std::bad_alloc",
        "CUBLAS_STATUS_ALLOC_FAILED", "CUDNN_STATUS_ALLOC_FAILED", "cudaErrorMemoryAllocation",
    ];

    /// <summary>Whether <paramref name="e"/> or one of its inner exceptions reports a failed allocation.</summary>
    public static bool Is(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is System.OutOfMemoryException || Markers.Any(m => x.Message.Contains(m, StringComparison.OrdinalIgnoreCase)))
                return true;
        return false;
    }

    /// <summary>The one-line error: where memory ran out, the batch that did not fit, and a smaller one to try (or <paramref name="remedy"/>).</summary>
    public static string Describe(Exception e, int batch, string batchOption, string? remedy = null)
    {
        bool gpu = Chain(e).Any(x => x.Message.Contains("CUDA", StringComparison.OrdinalIgnoreCase));
        string smaller = remedy ?? (batch > 1 ? $"try a smaller {batchOption}, e.g. {batch / 2}" : "the model does not fit even one image at a time");
        return $"out of {(gpu ? "GPU memory" : "memory")} at batch {batch}: {smaller} ({FirstLine(e)})";
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x;
    }

    // libtorch appends a C++ backtrace after the first line; ONNX Runtime prefixes an error code. One line is enough.
    private static string FirstLine(Exception e)
    {
        string message = Chain(e).First(x => Markers.Any(m => x.Message.Contains(m, StringComparison.OrdinalIgnoreCase)) || x is System.OutOfMemoryException).Message;
        string line = message.Split('\n', 2)[0].Trim();
        return line.Length <= 200 ? line : line[..200] + "…";
    }
}
