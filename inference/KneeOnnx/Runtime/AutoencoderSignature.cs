using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace KneeOnnx.Runtime;

/// <summary>
/// The one signature check both autoencoder parts pass: a single float32 rank-4 input and output under the contract's
/// names, with every fixed dimension agreeing with the part's metadata. The encoder maps image → latent, the decoder
/// latent → image; only the direction differs.
/// </summary>
internal static class AutoencoderSignature
{
    public static void Check(string label, InferenceSession session, DecoderInfo info, string part)
    {
        bool encoder = part == AutoencoderContract.EncoderPart;
        string what = encoder ? "encoder" : "decoder";
        var image = (Name: AutoencoderContract.ImageName, Channels: 1L, Side: (long)info.ImageSize);
        var latent = (Name: AutoencoderContract.LatentName, Channels: (long)info.LatentChannels, Side: (long)info.LatentSize);
        var (input, output) = encoder ? (image, latent) : (latent, image);
        Expect(label, what, session.InputMetadata, input.Name, "input", input.Channels, input.Side);
        Expect(label, what, session.OutputMetadata, output.Name, "output", output.Channels, output.Side);
    }

    private static void Expect(string label, string part, IReadOnlyDictionary<string, NodeMetadata> set, string name, string what, long channels, long side)
    {
        if (set.Count != 1 || !set.TryGetValue(name, out var m) || !m.IsTensor || m.ElementDataType != TensorElementType.Float || m.Dimensions.Length != 4)
            throw new InvalidModelException($"{label}: wrong signature: the {part}'s only {what} must be a Float tensor of rank 4 named '{name}'");
        var d = m.Dimensions;
        if ((d[1] > 0 && d[1] != channels) || (d[2] > 0 && d[2] != side) || (d[3] > 0 && d[3] != side))
            throw new InvalidModelException($"{label}: {what} shape [{string.Join(",", d)}] contradicts its metadata ({channels}×{side}²)");
    }
}
