using KneeOnnx.Training.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Classifier;

/// <summary>
/// One optimiser step of a classifier on a prepared batch: forward (in the bf16 copy when there is one), cross-entropy,
/// backward, gradients back to the fp32 master, AdamW. The trainer and the benchmark run this same code.
/// </summary>
public static class ClassifierStep
{
    /// <param name="pixels">batch × side² values in [-1, 1].</param>
    /// <returns>the batch's loss.</returns>
    public static float Run(ClassifierNet net, optim.Optimizer optimizer, BFloat16Compute? bf16, float[] pixels, long[] labels, int side)
    {
        using var scope = NewDisposeScope();
        var input = tensor(pixels, [labels.Length, 1, side, side]);
        var logits = bf16 is null ? net.forward(input) : ((ClassifierNet)bf16.PullWeights(training: true)).forward(input.to_type(ScalarType.BFloat16)).to_type(ScalarType.Float32);
        var loss = nn.functional.cross_entropy(logits, tensor(labels));
        optimizer.zero_grad();
        loss.backward();
        bf16?.PushGradients();
        optimizer.step();
        return loss.item<float>();
    }
}
