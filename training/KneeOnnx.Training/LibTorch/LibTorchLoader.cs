using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace KneeOnnx.Training.LibTorch;

/// <summary>
/// Runs TorchSharp on the CUDA libtorch of an installed PyTorch (its <c>torch/lib</c> folder) instead of the 2+ GB
/// TorchSharp-cuda-linux package. The libraries are opened with RTLD_GLOBAL before TorchSharp initialises, which is what
/// <c>LD_PRELOAD=…/libtorch_cuda.so</c> did by hand: when libLibTorchSharp.so then asks for libtorch.so, and TorchSharp
/// for libtorch_cuda.so, the loader matches the already-loaded objects by soname instead of searching the app folder.
/// Verified on an H100 with PyTorch 2.11 (CUDA 13) under TorchSharp 0.107 (built for libtorch 2.10): 0 of 1,320 symbols missing.
/// </summary>
public static class LibTorchLoader
{
    public const string EnvironmentVariable = "KNEEONNX_LIBTORCH";

    // Dependencies first; libtorch_cuda.so resolves the CUDA runtime, cuDNN and NCCL through its own RUNPATH
    // (…/site-packages/nvidia/*/lib in a PyTorch wheel), as it does inside Python.
    private static readonly string[] Libraries = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    /// <summary>The folder asked for by <c>--libtorch</c>, else by <see cref="EnvironmentVariable"/>, else none.</summary>
    public static string? Requested(string? option) =>
        option is { Length: > 0 } ? option : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env ? env : null;

    /// <summary>
    /// For a verb given <c>--libtorch DIR</c> (or run with <see cref="EnvironmentVariable"/> set): loads DIR's libtorch and says in
    /// one line which version it is and which CUDA devices it sees. Must run before anything else touches TorchSharp.
    /// </summary>
    public static void Apply(string? option, TextWriter output)
    {
        if (Requested(option) is not string dir) return;
        Load(dir, option is { Length: > 0 } ? "--libtorch" : "$" + EnvironmentVariable);
        string devices = TorchSharp.torch.cuda_is_available()
            ? $"CUDA: {TorchSharp.torch.cuda.device_count()} device(s)" + (GpuNames() is { Count: > 0 } names ? $" ({string.Join(", ", names)})" : "")
            : "CUDA: not available to it (no NVIDIA driver or device?)";
        output.WriteLine($"libtorch: {Version(dir)} from {Path.GetFullPath(dir)}; {devices}");
    }

    /// <summary>Checks <paramref name="directory"/> and opens its libraries globally; throws ArgumentException with one line naming the folder or file.</summary>
    public static void Load(string directory, string source)
    {
        string dir = Path.GetFullPath(directory);
        if (!Directory.Exists(dir))
            throw new ArgumentException($"{dir}: {source} folder not found (give the lib folder of a CUDA build of PyTorch, e.g. the output of python3 -c \"import torch,os;print(os.path.join(os.path.dirname(torch.__file__),'lib'))\")");
        if (!File.Exists(Path.Combine(dir, "libtorch_cuda.so")))
            throw new ArgumentException($"{dir}: no libtorch_cuda.so in this {source} folder (a CPU-only PyTorch, or not its torch/lib folder)");
        if (!OperatingSystem.IsLinux())
            throw new ArgumentException($"{source} is supported on Linux only");
        foreach (string name in Libraries)
        {
            string path = Path.Combine(dir, name);
            if (!File.Exists(path)) continue;
            if (Dl.Open(path) == IntPtr.Zero)
                throw new ArgumentException($"{path}: cannot be loaded ({Dl.LastError()})");
        }
    }

    /// <summary>"PyTorch 2.11.0+cu130 (CUDA 13.0)" from torch/version.py beside the lib folder, or a plain libtorch's build-version file.</summary>
    public static string Version(string directory)
    {
        string dir = Path.GetFullPath(directory);
        string versionPy = Path.Combine(dir, "..", "version.py");
        if (File.Exists(versionPy))
        {
            string text = File.ReadAllText(versionPy);
            string v = Regex.Match(text, @"^__version__\s*=\s*['""]([^'""]+)", RegexOptions.Multiline).Groups[1].Value;
            string cuda = Regex.Match(text, @"^cuda\s*(?::\s*[^=]+)?=\s*['""]([^'""]+)", RegexOptions.Multiline).Groups[1].Value;
            if (v.Length > 0) return $"PyTorch {v}" + (cuda.Length > 0 ? $" (CUDA {cuda})" : "");
        }
        string buildVersion = Path.Combine(dir, "..", "build-version");
        if (File.Exists(buildVersion)) return $"libtorch {File.ReadAllText(buildVersion).Trim()}";
        return "libtorch of unknown version";
    }

    /// <summary>The NVIDIA driver's name for each GPU (/proc/driver/nvidia), since TorchSharp exposes no device name.</summary>
    public static IReadOnlyList<string> GpuNames()
    {
        const string root = "/proc/driver/nvidia/gpus";
        if (!Directory.Exists(root)) return [];
        return Directory.GetDirectories(root).Order()
            .Select(d => Path.Combine(d, "information"))
            .Where(File.Exists)
            .Select(f => File.ReadLines(f).FirstOrDefault(l => l.StartsWith("Model:", StringComparison.Ordinal))?["Model:".Length..].Trim())
            .OfType<string>()
            .ToList();
    }

    private static class Dl
    {
        private const int RtldNow = 2, RtldGlobal = 0x100;

        // libdl.so.2 exists on every glibc (a stub forwarding to libc.so.6 since 2.34).
        [DllImport("libdl.so.2", EntryPoint = "dlopen")] private static extern IntPtr DlOpen(string file, int mode);
        [DllImport("libdl.so.2", EntryPoint = "dlerror")] private static extern IntPtr DlError();

        // dlerror() before dlopen(): the runtime binds a P/Invoke on its first call (itself a dlsym that clears the
        // error state), so binding dlerror early keeps the message of the failed dlopen for LastError.
        public static IntPtr Open(string path)
        {
            DlError();
            return DlOpen(path, RtldNow | RtldGlobal);
        }

        public static string LastError() => Marshal.PtrToStringUTF8(DlError()) ?? "unknown dlopen error";
    }
}
