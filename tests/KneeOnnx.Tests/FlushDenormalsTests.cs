using System.Runtime.InteropServices;
using KneeOnnx.Training.LibTorch;
using TorchSharp;

namespace KneeOnnx.Tests;

/// <summary>
/// The training CLI's denormal switch, judged by IEEE arithmetic: 1e-30 × 1e-10 is the subnormal 1e-40 by default and 0
/// once flush-to-zero is on. Each case runs on a thread of its own, because the switch is per thread and would leak into
/// other tests on a pooled one. (The first version set glibc's FE_NOMASK_ENV instead and no test noticed.)
/// </summary>
public class FlushDenormalsTests
{
    private static readonly bool Supported =
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [Fact]
    public void Without_the_switch_a_product_below_the_normal_range_is_subnormal()
    {
        var (product, _, _) = OnOwnThread(enable: false);
        Assert.True(float.IsSubnormal(product), $"1e-30f × 1e-10f = {product}");
    }

    [Fact]
    public void With_the_switch_the_thread_libtorch_and_threads_started_after_flush_to_zero()
    {
        if (!Supported) return; // Enable() promises nothing off Linux x86-64.
        var (product, tensorProduct, childProduct) = OnOwnThread(enable: true);
        Assert.Equal(0f, product);
        Assert.Equal(0f, tensorProduct);
        Assert.Equal(0f, childProduct);
    }

    [Fact]
    public void A_subnormal_input_reads_as_zero_once_the_switch_is_on()
    {
        if (!Supported) return;
        float subnormal = 0, doubled = -1;
        OnOwnThread(() =>
        {
            subnormal = Opaque(1e-40f);
            Assert.True(FlushDenormals.Enable());
            doubled = Opaque(subnormal) * Opaque(2f);
        });
        Assert.True(float.IsSubnormal(subnormal));
        Assert.Equal(0f, doubled); // denormals-are-zero: the operand itself counts as 0, not only the result
    }

    private static (float Product, float TensorProduct, float ChildProduct) OnOwnThread(bool enable)
    {
        float product = -1, tensorProduct = -1, childProduct = -1;
        OnOwnThread(() =>
        {
            if (enable) Assert.True(FlushDenormals.Enable(), "Enable() reported the bits were not set");
            else Assert.False(FlushDenormals.IsEnabled(), "a fresh thread already flushes denormals");
            product = Opaque(1e-30f) * Opaque(1e-10f);
            using (var a = torch.tensor(new[] { 1e-30f }))
            using (var b = a * 1e-10f)
                tensorProduct = b.ToSingle();
            var child = new Thread(() => childProduct = Opaque(1e-30f) * Opaque(1e-10f));
            child.Start();
            child.Join();
        });
        return (product, tensorProduct, childProduct);
    }

    /// <summary>Runs on a new thread and rethrows what it threw (an exception left on a thread would end the test host).</summary>
    private static void OnOwnThread(Action body)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw failure;
    }

    /// <summary>Keeps the JIT from folding the arithmetic at compile time, where MXCSR does not apply.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static float Opaque(float value) => value;
}
