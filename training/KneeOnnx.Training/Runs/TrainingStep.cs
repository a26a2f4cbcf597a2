using KneeOnnx.Training.Diffusion;
using KneeOnnx.Training.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Runs;

/// <summary>
/// One optimiser step: batch, noise, forward, loss, backward, clipping, AdamW.
/// Forward and loss run in an inner dispose scope whose only survivor is the loss. A C# handle keeps its tensor's storage
/// alive, so when every intermediate stayed in one scope until after <c>optimizer.step()</c>, no activation could be
/// freed during <c>backward()</c> and the peak was all activations plus all gradients (the paper preset ran out of 80 GB
/// at batch 96 that way). With the handles gone, autograd releases each saved activation as soon as its node has run.
/// The arithmetic is the same operations in the same order, so losses and weights are bit-identical to the old layout.
/// </summary>
public sealed class TrainingStep(UNet model, NoiseObjective objective, optim.Optimizer optimizer, IReadOnlyList<Parameter> parameters, double gradientClip, Device device)
{
    /// <summary>Runs step <paramref name="step"/> of <paramref name="batches"/>; <paramref name="checkLoss"/> sees the loss before it is applied and may throw to refuse it.</summary>
    public float Run(BatchBuilder batches, long step, Action<float> checkLoss)
    {
        using var stepScope = NewDisposeScope();
        Tensor lossTensor;
        using (NewDisposeScope())
        {
            var (images, grades, sides, timesteps, noiseSeed) = batches.Build(step);
            using var generator = new Generator((ulong)noiseSeed);
            var noise = randn(images.shape, generator: generator).to(device);
            var t = timesteps.to(device);
            var noisy = objective.AddNoise(images.to(device), noise, t);
            model.train();
            lossTensor = objective.Loss(model.forward(noisy, t, grades.to(device), sides?.to(device)), noise, t).MoveToOuterDisposeScope();
        }
        float loss = lossTensor.item<float>();
        checkLoss(loss);
        optimizer.zero_grad();
        lossTensor.backward();
        nn.utils.clip_grad_norm_(parameters, gradientClip);
        optimizer.step();
        return loss;
    }
}
