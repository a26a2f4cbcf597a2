using KneeOnnx.Validation;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.LibTorch;

/// <summary>Chooses where TorchSharp computes and says why in one line.</summary>
public static class TorchDevice
{
    public static readonly IReadOnlyList<string> Choices = ["auto", "cpu", "cuda"];

    public static (Device Device, string Line) Resolve(string choice)
    {
        bool cuda = cuda_is_available();
        return choice switch
        {
            "cpu" => (CPU, "device: cpu (requested)"),
            "cuda" when cuda => (CUDA, "device: cuda (requested)"),
            "cuda" => throw new ArgumentException("--device cuda: CUDA is not available to TorchSharp (this build uses the CPU libtorch; build with -p:TorchBackend=cuda on a machine with CUDA)"),
            "auto" when cuda => (CUDA, "device: cuda (auto: CUDA is available)"),
            "auto" => (CPU, "device: cpu (auto: CUDA not available to this TorchSharp build)"),
            _ => throw new ArgumentException($"--device '{choice}' is not one of auto, cpu, cuda"),
        };
    }

    /// <summary>Refuses a --device value that is not a choice at all, before anything is created; whether CUDA is there is <see cref="Resolve"/>'s question.</summary>
    public static void ValidateChoice(string choice)
    {
        if (!Choices.Contains(choice)) throw new ArgumentException($"--device '{choice}' is not one of {string.Join(", ", Choices)}");
    }

    /// <summary>0 = all cores; the range is <see cref="ThreadCount"/>'s, shared by every verb of both CLIs. Caps the
    /// process's own parallel loops too (<see cref="HostParallelism"/>), so --threads bounds the whole verb.</summary>
    public static void SetThreads(int threads)
    {
        set_num_threads(ThreadCount.Resolve(threads));
        HostParallelism.Limit(threads);
    }
}
