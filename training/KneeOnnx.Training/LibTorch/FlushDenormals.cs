using System.Runtime.InteropServices;

namespace KneeOnnx.Training.LibTorch;

/// <summary>
/// Flush-to-zero and denormals-are-zero for this thread's SSE/AVX arithmetic, and so for the threads it creates after
/// (libtorch's worker pool inherits the control register). Values below 1.2e-38 are rounding noise in training, but on
/// x86 each one can cost a microcode assist; PyTorch offers the same switch as torch.set_flush_denormal.
/// </summary>
/// <remarks>
/// Until 2026-12-04 this looked fesetenv up in libc, where glibc does not have it (it is in libm), so it did nothing; and
/// the (fenv_t*)-2 it passed is macOS's FE_DFL_DISABLE_SSE_DENORMS_ENV but glibc's FE_NOMASK_ENV, which would have
/// unmasked every exception. glibc's control-mode calls (fegetmode/fesetmode, libm, glibc ≥ 2.25) carry the whole MXCSR
/// except its sticky flags, so the bits are set there and read back.
/// </remarks>
public static class FlushDenormals
{
    private const uint FlushToZero = 1u << 15, DenormalsAreZero = 1u << 6;

    /// <summary>glibc's femode_t on x86-64: the x87 control word, padding, then MXCSR.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ControlModes
    {
        public ushort X87ControlWord;
        public ushort Reserved;
        public uint Mxcsr;
    }

    [DllImport("libm.so.6", EntryPoint = "fegetmode")]
    private static extern int GetModes(out ControlModes modes);

    [DllImport("libm.so.6", EntryPoint = "fesetmode")]
    private static extern int SetModes(in ControlModes modes);

    /// <returns>true when both bits are set on this thread (Linux on x86-64 with glibc); false elsewhere, where nothing
    /// changes.</returns>
    public static bool Enable()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return false;
        try
        {
            if (GetModes(out var modes) != 0) return false;
            modes.Mxcsr |= FlushToZero | DenormalsAreZero;
            if (SetModes(modes) != 0) return false;
            return IsEnabled();
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Whether this thread's MXCSR has both bits set.</summary>
    public static bool IsEnabled()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return false;
        try
        {
            const uint both = FlushToZero | DenormalsAreZero;
            return GetModes(out var modes) == 0 && (modes.Mxcsr & both) == both;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }
}
