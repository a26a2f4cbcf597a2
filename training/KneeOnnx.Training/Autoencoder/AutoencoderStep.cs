using KneeOnnx.Training.Precision;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>What one autoencoder step measured (the critic's terms are zero before it starts).</summary>
public readonly record struct AutoencoderLosses(float L1, float Perceptual, float Kl, float Generator, float AdaptiveWeight, float Critic)
{
    /// <summary>L1 + perceptual: the reconstruction objective, comparable across the whole run.</summary>
    public float Reconstruction(double perceptualWeight) => (float)(L1 + perceptualWeight * Perceptual);
}

/// <summary>
/// One step of the autoencoder and, once <see cref="AutoencoderTrainConfig.AdversarialStart"/> is reached, of its critic:
/// L1 + perceptual + KL on a sampled latent (Rombach et al. 2022), plus the hinge adversarial term weighted adaptively by
/// the ratio of the reconstruction and adversarial gradient norms at the decoder's last layer (Esser et al. 2021, eq. 7),
/// so that neither term swamps the other whatever their scales. The critic then takes a hinge step on real crops against
/// the (detached) reconstructions. With bf16, both networks compute in their bf16 copies; updates stay fp32. With the
/// encoder frozen, only the decoder's parameters are given (<paramref name="trained"/>) and the KL term is a constant.
/// </summary>
public sealed class AutoencoderStep(
    KneeAutoencoder model, PatchDiscriminator critic, PerceptualLoss perceptual, optim.Optimizer modelOptimizer, optim.Optimizer criticOptimizer,
    AutoencoderTrainConfig config, Device device, BFloat16Compute? modelBf16 = null, BFloat16Compute? criticBf16 = null, IReadOnlyList<Parameter>? trained = null)
{
    private readonly Parameter[] _modelParameters = (trained ?? model.parameters()).ToArray();

    public AutoencoderLosses Run(CropBatchBuilder batches, long step, Action<float> checkLoss)
    {
        using var stepScope = NewDisposeScope();
        bool adversarial = step >= config.AdversarialStart;
        var (crops, noiseSeed) = batches.Build(step);
        var x = crops.to(device);
        var net = modelBf16 is null ? model : (KneeAutoencoder)modelBf16.PullWeights(training: true);
        net.train();
        var judge = criticBf16 is null ? critic : (PatchDiscriminator)criticBf16.PullWeights(training: true);
        var input = modelBf16 is null ? x : x.to_type(ScalarType.BFloat16);

        Tensor total, reconstruction;
        float l1Value, perceptualValue, klValue, generatorValue = 0, weightValue = 0;
        using (NewDisposeScope())
        {
            Tensor mean, logVariance;
            // A frozen encoder is a constant: no graph through it, so its backward is never computed.
            using (config.FreezeEncoder ? no_grad() : null) (mean, logVariance) = net.Encode(input);
            using var generator = new Generator((ulong)noiseSeed);
            var noise = randn(mean.shape, generator: generator).to(device).to_type(mean.dtype);
            var decoded = net.Decoder.forward(mean + (0.5 * logVariance).exp() * noise);
            var l1 = (decoded.to_type(ScalarType.Float32) - x).abs().mean();
            var perceptualTerm = perceptual.Distance(decoded, x).mean();
            var m = mean.to_type(ScalarType.Float32);
            var v = logVariance.to_type(ScalarType.Float32);
            var kl = (0.5 * (m.square() + v.exp() - 1 - v)).sum([1, 2, 3]).mean();
            var rec = l1 + config.PerceptualWeight * perceptualTerm;
            total = rec + config.KlWeight * kl;
            if (adversarial)
            {
                var fool = -judge.forward(decoded).to_type(ScalarType.Float32).mean();
                var last = net.Decoder.LastLayerWeight;
                var recGradient = autograd.grad([rec], [last], retain_graph: true)[0];
                var foolGradient = autograd.grad([fool], [last], retain_graph: true)[0];
                var weight = (recGradient.to_type(ScalarType.Float32).norm() / (foolGradient.to_type(ScalarType.Float32).norm() + 1e-4)).clamp(0, 1e4).detach();
                total = total + config.AdversarialWeight * weight * fool;
                generatorValue = fool.item<float>();
                weightValue = weight.item<float>();
            }
            l1Value = l1.item<float>();
            perceptualValue = perceptualTerm.item<float>();
            klValue = kl.item<float>();
            total = total.MoveToOuterDisposeScope();
            reconstruction = decoded.detach().MoveToOuterDisposeScope();
        }
        checkLoss(total.item<float>());
        modelOptimizer.zero_grad();
        total.backward();
        modelBf16?.PushGradients();
        nn.utils.clip_grad_norm_(_modelParameters, config.GradientClip);
        modelOptimizer.step();

        float criticValue = 0;
        if (adversarial)
        {
            judge.zero_grad(); // the generator's backward reached the critic too; its step must see its own loss alone
            criticOptimizer.zero_grad();
            var criticLoss = 0.5 * (nn.functional.relu(1 - judge.forward(input)).to_type(ScalarType.Float32).mean()
                + nn.functional.relu(1 + judge.forward(reconstruction)).to_type(ScalarType.Float32).mean());
            criticLoss.backward();
            criticBf16?.PushGradients();
            criticOptimizer.step();
            criticValue = criticLoss.item<float>();
        }
        return new AutoencoderLosses(l1Value, perceptualValue, klValue, generatorValue, weightValue, criticValue);
    }
}
