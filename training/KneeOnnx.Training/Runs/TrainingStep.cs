using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Precision;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Runs;

/// <summary>
/// One optimiser step: batch, noise, forward, loss against the objective's target (ε or v) — or, distilling guidance,
/// a <see cref="GuidanceTeacher"/>'s guided prediction for the same noisy input —, backward, clipping, AdamW.
/// Forward and loss run in an inner dispose scope whose only survivor is the loss. A C# handle keeps its tensor's storage
/// alive, so when every intermediate stayed in one scope until after <c>optimizer.step()</c>, no activation could be
/// freed during <c>backward()</c> and the peak was all activations plus all gradients (the paper preset ran out of 80 GB
/// at batch 96 that way). With the handles gone, autograd releases each saved activation as soon as its node has run.
/// The arithmetic is the same operations in the same order, so losses and weights are bit-identical to the old layout.
/// </summary>
/// <remarks>With <paramref name="bf16"/>, the forward and backward run in its bfloat16 copy of <paramref name="model"/>; the loss,
/// clipping and update stay fp32 on the master weights. With <paramref name="channelsLast"/> the input is laid out
/// channels-last (NHWC strides, same NCHW shape), which oneDNN's convolutions then keep through the network: a lever
/// the bench measures (<c>bench --training-channels-last</c>), not a training option.</remarks>
public sealed class TrainingStep(UNet model, NoiseObjective objective, optim.Optimizer optimizer, IReadOnlyList<Parameter> parameters, double gradientClip, Device device,
    BFloat16Compute? bf16 = null, bool channelsLast = false, int microBatch = 0, GuidanceTeacher? teacher = null)
{
    /// <summary>Runs step <paramref name="step"/> of <paramref name="batches"/>; <paramref name="checkLoss"/> sees the loss before it is applied and may throw to refuse it.</summary>
    /// <remarks>
    /// With a <c>microBatch</c> smaller than the batch, the batch (its images, labels, timesteps and noise drawn whole, so
    /// the data are the same bytes) goes through forward and backward in pieces of that many images, each piece's loss
    /// weighted by its share of the batch: the gradients add up to the whole batch's mean-loss gradient (the U-Net has no
    /// batch-coupled layer: GroupNorm is per image), while only one piece's activations are held at a time. That is how a
    /// 2-core machine runs the GPU stints' batch of 512 (docs/training.md).
    /// </remarks>
    public float Run(BatchBuilder batches, long step, Action<float> checkLoss)
    {
        using var stepScope = NewDisposeScope();
        var (images, grades, sides, timesteps, noiseSeed) = batches.Build(step);
        using var generator = new Generator((ulong)noiseSeed);
        var noise = randn(images.shape, generator: generator).to(device);
        long batch = images.shape[0];
        long piece = microBatch <= 0 ? batch : Math.Min(microBatch, batch);
        var net = bf16 is null ? model : (UNet)bf16.PullWeights(training: true);
        net.train();
        optimizer.zero_grad();
        double loss = 0;
        for (long start = 0; start < batch; start += piece)
        {
            using var pieceScope = NewDisposeScope();
            long length = Math.Min(piece, batch - start);
            Tensor pieceLoss;
            using (NewDisposeScope())
            {
                var clean = images.narrow(0, start, length).to(device);
                var t = timesteps.narrow(0, start, length).to(device);
                var pieceNoise = noise.narrow(0, start, length);
                var noisy = objective.AddNoise(clean, pieceNoise, t);
                var input = bf16 is null ? noisy : noisy.to_type(ScalarType.BFloat16);
                if (channelsLast) input = input.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
                var pieceGrades = grades.narrow(0, start, length).to(device);
                var pieceSides = sides?.narrow(0, start, length).to(device);
                var predicted = net.forward(input, t, pieceGrades, pieceSides).to_type(ScalarType.Float32);
                var target = teacher is null ? objective.Target(clean, pieceNoise, t) : teacher.Target(noisy, t, pieceGrades, pieceSides);
                pieceLoss = objective.Loss(predicted, target, t);
                if (length != batch) pieceLoss = pieceLoss * ((double)length / batch);
                pieceLoss = pieceLoss.MoveToOuterDisposeScope();
            }
            loss += pieceLoss.item<float>();
            // A refused loss must not be applied; with one piece it is refused before any backward, as it always was.
            if (length == batch) checkLoss((float)loss);
            pieceLoss.backward();
            bf16?.PushGradients();
        }
        if (piece != batch) checkLoss((float)loss);
        nn.utils.clip_grad_norm_(parameters, gradientClip);
        optimizer.step();
        return (float)loss;
    }
}
