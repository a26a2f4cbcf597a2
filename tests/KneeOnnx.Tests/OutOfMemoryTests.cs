using System.Runtime.InteropServices;
using KneeOnnx.Runtime;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>
/// Failed allocations become one line naming the batch (exit code 5). The CPU cases are real failures of both native
/// libraries (a 16 TiB tensor); the CUDA messages, which need a GPU to provoke, are quoted from libtorch's
/// CUDACachingAllocator and ONNX Runtime's BFC arena and CUDA error path.
/// </summary>
public class OutOfMemoryTests
{
    [Fact]
    public void LibtorchCpuAllocationFailureIsRecognised()
    {
        var e = Assert.ThrowsAny<Exception>(() => { using var t = empty(1L << 42, dtype: float32); });
        Assert.True(OutOfMemory.Is(e), $"not recognised: {e.GetType().Name}: {e.Message}");
        string line = OutOfMemory.Describe(e, 96, "--batch");
        Assert.StartsWith("out of memory at batch 96: try a smaller --batch, e.g. 48 (", line);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public void OnnxRuntimeCpuAllocationFailureIsRecognised()
    {
        var e = Assert.ThrowsAny<OnnxRuntimeException>(() =>
        {
            using var v = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, [1L << 42]);
        });
        Assert.True(OutOfMemory.Is(e), $"not recognised: {e.Message}");
    }

    [Theory]
    [InlineData("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB of which 1.21 GiB is free. Of the allocated memory 73.10 GiB is allocated by PyTorch\nException raised from malloc at c10/cuda/CUDACachingAllocator.cpp:1300")]
    [InlineData("[ErrorCode:RuntimeException] /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*) Failed to allocate memory for requested buffer of size 1073741824 (CUDA)")]
    [InlineData("[ErrorCode:Fail] CUDA failure 2: out of memory ; GPU=0 ; hostname=gpu1 ; file=cuda_allocator.cc ; line=48 ; expr=cudaMalloc((void**)&p, size);")]
    [InlineData("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`")]
    public void CudaAllocationFailuresAreRecognisedAsGpuMemory(string message)
    {
        var e = new ExternalException(message);
        Assert.True(OutOfMemory.Is(e));
        string line = OutOfMemory.Describe(new InvalidOperationException("wrapped", e), 24, "--batch");
        Assert.StartsWith("out of GPU memory at batch 24: try a smaller --batch, e.g. 12 (", line);
        Assert.DoesNotContain('\n', line);
    }

    [Theory]
    [InlineData("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!")]
    [InlineData("[ErrorCode:InvalidArgument] Invalid input name: samples")]
    [InlineData("CUDA error: an illegal memory access was encountered")]
    public void OtherNativeErrorsAreNotOutOfMemory(string message) =>
        Assert.False(OutOfMemory.Is(new ExternalException(message)));

    [Fact]
    public void ABatchOfOneSaysItCannotGoSmaller()
    {
        string line = OutOfMemory.Describe(new ExternalException("CUDA out of memory. Tried to allocate 9.00 GiB"), 1, "--batch");
        Assert.Contains("does not fit even one image", line);
    }
}
