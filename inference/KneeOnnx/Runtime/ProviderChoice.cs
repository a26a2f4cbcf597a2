using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Runtime;

/// <summary>Which ONNX Runtime execution provider to run on.</summary>
public enum ProviderRequest
{
    /// <summary>CUDA if its libraries load, else the CPU, saying why in one line.</summary>
    Auto,
    Cuda,
    Cpu,
}

/// <summary>Session settings: provider, device and threads.</summary>
public sealed record RuntimeOptions
{
    public ProviderRequest Provider { get; init; } = ProviderRequest.Auto;
    public int DeviceId { get; init; }
    /// <summary>Threads inside one operator; 0 = every logical core this process may run on (<see cref="Validation.ThreadCount.Resolve"/>).</summary>
    public int IntraOpThreads { get; init; }
    public int InterOpThreads { get; init; } = 1;
    /// <summary>Graph rewrites (constant folding, Conv+activation fusion, layout changes); the default applies all of them.</summary>
    public GraphOptimizationLevel GraphOptimization { get; init; } = GraphOptimizationLevel.ORT_ENABLE_ALL;
    /// <summary>Plans buffer reuse from the first run's shapes; pays when the batch size stays fixed, as in a sampling loop.</summary>
    public bool MemoryPattern { get; init; } = true;
    /// <summary>Runs independent branches of the graph concurrently (needs <see cref="InterOpThreads"/> &gt; 1).</summary>
    public bool ParallelExecution { get; init; }
    /// <summary>CUDA execution provider options (see <see cref="CudaProviderSettings"/>); empty = ONNX Runtime's defaults.</summary>
    public IReadOnlyDictionary<string, string> CudaOptions { get; init; } = new Dictionary<string, string>();
    /// <summary>Binds each batch size's input and output buffers to the session once (OrtIoBinding) instead of naming them on every run.</summary>
    public bool IoBinding { get; init; }
    /// <summary>
    /// Whether idle intra-op threads spin waiting for work (ONNX Runtime's default). Off, they sleep: slightly slower
    /// alone (10 % on a 2-core CPU), and they stop taking a whole core from training or anything else that shares the CPU.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;
}

/// <summary>Builds <see cref="SessionOptions"/> for a request and reports what was chosen.</summary>
public static class ProviderChoice
{
    // Libraries the CUDA provider of ONNX Runtime 1.31 loads; the first one missing is named in the fallback line.
    private static readonly string[] CudaLibraries = ["libcuda.so.1", "libcudart.so.13", "libcublasLt.so.13", "libcublas.so.13", "libcufft.so.12", "libcudnn.so.9"];

    static ProviderChoice()
    {
        // ONNX Runtime logs a failed CUDA load to stderr in red; we report it in one line of our own instead.
        try
        {
            var env = new EnvironmentCreationOptions { logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, logId = "kneeonnx" };
            OrtEnv.CreateInstanceWithOptions(ref env);
        }
        catch (OnnxRuntimeException)
        {
            // Already created by the host application with its own settings: keep them.
        }
    }

    /// <summary>Execution providers compiled into this ONNX Runtime build (usable or not on this machine).</summary>
    public static IReadOnlyList<string> CompiledProviders() => OrtEnv.Instance().GetAvailableProviders();

    public static (SessionOptions Options, string Provider, string Line) Create(RuntimeOptions request)
    {
        var options = BaseOptions(request);
        if (request.Provider == ProviderRequest.Cpu)
            return (options, "cpu", "provider: cpu (requested)");
        try
        {
            AppendCuda(options, request);
            string extra = request.CudaOptions.Count > 0 ? $"; {CudaProviderSettings.Format(request.CudaOptions)}" : "";
            return (options, "cuda", $"provider: cuda (device {request.DeviceId}{extra})");
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            options.Dispose();
            string? missing = OperatingSystem.IsLinux() ? CudaLibraries.FirstOrDefault(l => !CanLoad(l)) : null;
            string reason = missing is not null ? $"{missing} cannot be loaded" : FirstLine(e.Message);
            if (request.Provider == ProviderRequest.Cuda)
                throw new InvalidOperationException($"--provider cuda: the CUDA execution provider cannot be used ({reason}); it needs an NVIDIA driver and CUDA 13 with cuDNN 9 libraries on the library path", e);
            return (BaseOptions(request), "cpu", $"provider: cpu (auto: CUDA unavailable: {reason})");
        }
    }

    private static void AppendCuda(SessionOptions options, RuntimeOptions request)
    {
        if (request.CudaOptions.Count == 0)
        {
            options.AppendExecutionProvider_CUDA(request.DeviceId);
            return;
        }
        using var cuda = new OrtCUDAProviderOptions();
        var all = new Dictionary<string, string>(request.CudaOptions) { ["device_id"] = request.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        cuda.UpdateOptions(all);
        options.AppendExecutionProvider_CUDA(cuda);
    }

    private static SessionOptions BaseOptions(RuntimeOptions request)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = request.GraphOptimization,
            EnableMemoryPattern = request.MemoryPattern,
            ExecutionMode = request.ParallelExecution ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            // Not 0: ONNX Runtime's own default on Linux is half the logical cores, which left one of this 2-core
            // machine's cores idle and generated at 1.15 instead of 2.0 images/s.
            // The CLIs refuse a bad --threads before they get here; a library caller set RuntimeOptions.IntraOpThreads.
            IntraOpNumThreads = Validation.ThreadCount.Resolve(request.IntraOpThreads, $"{nameof(RuntimeOptions)}.{nameof(RuntimeOptions.IntraOpThreads)}"),
            InterOpNumThreads = Math.Max(1, request.InterOpThreads),
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        if (!request.AllowSpinning)
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        }
        return options;
    }

    private static bool CanLoad(string library)
    {
        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(library, out var handle)) return false;
        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        return true;
    }

    private static string FirstLine(string message)
    {
        string line = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? message;
        return line.Length > 200 ? line[..200] + "…" : line;
    }
}
