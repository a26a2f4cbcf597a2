using CommandLine;

namespace KneeOnnx.Training.Cli;

/// <summary>What every verb that runs TorchSharp accepts: where its libtorch comes from.</summary>
public abstract class TorchOptions
{
    [Option("libtorch", HelpText = "Run on the CUDA libtorch of an installed PyTorch: its torch/lib folder (holding libtorch_cuda.so). Default: $KNEEONNX_LIBTORCH, else the libtorch this build ships.")]
    public string? LibTorch { get; set; }
}
