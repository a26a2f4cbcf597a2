using System.Runtime.InteropServices;

namespace KneeOnnx.Training.LibTorch;

/// <summary>
/// Flush-to-zero and denormals-are-zero for this thread's SSE/AVX arithmetic, and so for the threads it creates after
/// (libtorch's worker pool inherits the control register). Values below 1.2e-38 are rounding noise in training, but on
/// x86 each one costs a microcode assist of ~100 cycles; PyTorch offers the same switch as torch.set_flush_denormal.
/// </summary>
public static class FlushDenormals
{
    /// <summary>glibc's FE_DFL_DISABLE_SSE_DENORMS_ENV: the default environment with FTZ and DAZ set (x86 only).</summary>
    private static readonly IntPtr DisableDenormalsEnvironment = new(-2);

    [DllImport("libc", EntryPoint = "fesetenv")]
    private static extern int SetEnvironment(IntPtr environment);

    /// <returns>true when set (Linux on x86-64); false elsewhere, where nothing changes.</returns>
    public static bool Enable()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return false;
        try
        {
            return SetEnvironment(DisableDenormalsEnvironment) == 0;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }
}
