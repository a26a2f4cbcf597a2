using static TorchSharp.torch;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// The encoder a decoder fine-tuning run (<see cref="AutoencoderTrainConfig.FreezeEncoder"/>) kept: the exported file it
/// came from, checked to be the same file and the same weights the checkpoint holds, so an export can write that file
/// again unchanged and the latents every U-Net learned stay valid.
/// </summary>
public static class FrozenEncoder
{
    public static AutoencoderFiles Open(AutoencoderState state, KneeAutoencoder model, string? dataOption)
    {
        if (dataOption is not null)
            throw new ArgumentException($"--data {dataOption}: it sets the latent scale, which a run with a frozen encoder keeps from {state.Train.InitFrom}; leave it out");
        string folder = state.Train.InitFrom ?? throw new InvalidDataException("the checkpoint says its encoder is frozen but names no --init-from folder");
        var files = AutoencoderFiles.Open(folder, "the run's --init-from");
        if (files.EncoderSha256 != state.Train.FrozenEncoderSha256)
            throw new ArgumentException($"{files.EncoderPath}: not the encoder this run froze (sha256 {files.EncoderSha256[..16]}…, the run's {state.Train.FrozenEncoderSha256?[..16]}…); restore that file to export");
        using var loaded = files.LoadWeights();
        var kept = loaded.Encoder.state_dict();
        foreach (var (name, tensor) in model.Encoder.state_dict())
            if (!kept.TryGetValue(name, out var original) || !tensor.shape.SequenceEqual(original.shape) || !tensor.eq(original).all().item<bool>())
                throw new InvalidDataException($"{files.EncoderPath}: the checkpoint's encoder weight '{name}' differs from this file's, though the run froze it");
        return files;
    }
}
