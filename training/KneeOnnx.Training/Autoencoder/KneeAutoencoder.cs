using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// The KL-regularised knee autoencoder (Rombach et al. 2022, §3.1): the encoder gives a diagonal Gaussian per latent
/// position, training decodes a sample of it, generation decodes what the diffusion model draws. The latents are scaled
/// to unit variance by a factor measured on the training set after training and stored with the model.
/// </summary>
public sealed class KneeAutoencoder : nn.Module<Tensor, Tensor>
{
    internal readonly Encoder encoder;
    internal readonly Decoder decoder;

    public AutoencoderConfig Config { get; }

    public KneeAutoencoder(AutoencoderConfig config) : base(nameof(KneeAutoencoder))
    {
        config.Validate();
        Config = config;
        encoder = new Encoder(config);
        decoder = new Decoder(config);
        RegisterComponents();
    }

    /// <summary>The state-dict prefix of the decoder's weights (the field's name).</summary>
    public const string DecoderPrefix = nameof(decoder) + ".";

    public Encoder Encoder => encoder;
    public Decoder Decoder => decoder;
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>image → (mean, log-variance clamped to [-30, 20] as LDM does, so exp stays finite).</summary>
    public (Tensor Mean, Tensor LogVariance) Encode(Tensor image)
    {
        var moments = encoder.forward(image);
        var parts = moments.chunk(2, 1);
        return (parts[0], parts[1].clamp(-30, 20));
    }

    /// <summary>Reconstruction of the mean latent (what inference and evaluation use).</summary>
    public override Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        return decoder.forward(Encode(image).Mean).MoveToOuterDisposeScope();
    }
}
