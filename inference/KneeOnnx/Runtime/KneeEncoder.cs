using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Runtime;

/// <summary>
/// A latent model's encoder graph, found beside its decoder (<c>vae_encoder/model.onnx</c> next to
/// <c>vae_decoder/</c>, as export-autoencoder writes the pair) and checked against it: the same autoencoder
/// (<c>kneeonnx.autoencoder_sha256</c>), scale factor, latent shape and image size. Only verbs that start from a real
/// image open it; every refusal names both files.
/// </summary>
public sealed class KneeEncoder : IDisposable
{
    public string Path { get; }
    public string Sha256 { get; }
    public DecoderInfo Info { get; }
    internal InferenceSession Session { get; }

    private KneeEncoder(string path, string sha, DecoderInfo info, InferenceSession session)
    {
        Path = path;
        Sha256 = sha;
        Info = info;
        Session = session;
    }

    /// <summary>The encoder file that pairs with <paramref name="decoderPath"/>: the sibling folder of the decoder's.</summary>
    public static string Beside(string decoderPath) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(decoderPath)))!,
            AutoencoderContract.EncoderPart, AutoencoderContract.FileName);

    /// <summary>Opens the encoder of latent <paramref name="model"/>, on the execution provider the model got.</summary>
    public static KneeEncoder Open(KneeModel model)
    {
        var decoder = model.Decoder ?? throw new ArgumentException(model.Info.IsLatent
            ? $"{model.Path}: was opened as a guide, without its decoder; open it with {nameof(KneeModel)}.{nameof(KneeModel.Open)}"
            : $"{model.Path}: a pixel model has no encoder; its images are its samples ({nameof(PixelPassThrough)})");
        string path = Beside(decoder.Path);
        string label = $"{decoder.Path}: encoder {path}";
        if (!File.Exists(path))
            throw new InvalidModelException($"{label}: file not found (a model folder that starts from real images needs {AutoencoderContract.EncoderPart}/{AutoencoderContract.FileName} beside {AutoencoderContract.DecoderPart}/)");
        var (bytes, sha) = OnnxFile.Read(path, label, "file");
        var (options, _, _) = ProviderChoice.Create(KneeDecoder.WithoutMemoryPattern(model.Runtime with { Provider = model.Provider == "cuda" ? ProviderRequest.Cuda : ProviderRequest.Cpu }));
        var session = OnnxFile.Session(bytes, options, label);
        try
        {
            var info = DecoderInfo.Parse(label, session.ModelMetadata.CustomMetadataMap, AutoencoderContract.EncoderPart);
            CheckPair(label, info, decoder.Info);
            AutoencoderSignature.Check(label, session, info, AutoencoderContract.EncoderPart);
            return new KneeEncoder(path, sha, info, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static void CheckPair(string label, DecoderInfo encoder, DecoderInfo decoder)
    {
        if (encoder.AutoencoderSha256 != decoder.AutoencoderSha256)
            throw new InvalidModelException($"{label} comes from autoencoder {encoder.AutoencoderSha256}, the decoder from {decoder.AutoencoderSha256} ('{AutoencoderContract.Keys.AutoencoderSha256}'): the two files do not belong together");
        if (encoder.ScaleFactor != decoder.ScaleFactor)
            throw new InvalidModelException(string.Create(CultureInfo.InvariantCulture,
                $"{label} scales latents by {encoder.ScaleFactor}, the decoder by {decoder.ScaleFactor} ('{AutoencoderContract.Keys.ScaleFactor}'): the two files do not belong together"));
        if ((encoder.LatentChannels, encoder.LatentSize, encoder.ImageSize) != (decoder.LatentChannels, decoder.LatentSize, decoder.ImageSize))
            throw new InvalidModelException($"{label} maps {encoder.ImageSize}² images to {encoder.LatentChannels}×{encoder.LatentSize}² latents, the decoder {decoder.LatentChannels}×{decoder.LatentSize}² latents to {decoder.ImageSize}² images");
    }

    public void Dispose() => Session.Dispose();
}
