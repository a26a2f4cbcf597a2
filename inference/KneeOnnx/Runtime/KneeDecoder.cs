using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Runtime;

/// <summary>
/// A latent model's decoder graph, opened beside its U-Net: found through the U-Net's metadata, its bytes checked
/// against the SHA-256 the U-Net records, and its own metadata checked against the U-Net's shapes. Every refusal names
/// both files, since either may be the wrong one.
/// </summary>
public sealed class KneeDecoder : IDisposable
{
    public string Path { get; }
    public string Sha256 { get; }
    public DecoderInfo Info { get; }
    internal InferenceSession Session { get; }

    private KneeDecoder(string path, string sha, DecoderInfo info, InferenceSession session)
    {
        Path = path;
        Sha256 = sha;
        Info = info;
        Session = session;
    }

    /// <summary>Opens the decoder <paramref name="unet"/>'s metadata names, on the execution provider the U-Net got.</summary>
    public static KneeDecoder Open(string unetPath, ModelInfo unet, RuntimeOptions? runtime = null)
    {
        runtime ??= new RuntimeOptions();
        string relative = unet.DecoderPath ?? throw new ArgumentException($"{unetPath}: a pixel model has no decoder");
        string path = System.IO.Path.GetFullPath(relative, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(unetPath))!);
        string label = $"{unetPath}: decoder {path}";
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new InvalidModelException($"{label}: file not found (the U-Net's '{ModelContract.Keys.Decoder}' = '{ModelInfo.Shorten(relative)}')");
        var (bytes, sha) = OnnxFile.Read(path, label, "file");
        if (sha != unet.DecoderSha256)
            throw new InvalidModelException($"{label} has SHA-256 {sha}, but the U-Net was made for {unet.DecoderSha256} ('{ModelContract.Keys.DecoderSha256}'): the two files do not belong together");
        var (options, _, _) = ProviderChoice.Create(WithoutMemoryPattern(runtime));
        var session = OnnxFile.Session(bytes, options, label);
        try
        {
            var info = DecoderInfo.Parse(label, session.ModelMetadata.CustomMetadataMap);
            CheckAgainst(label, info, unet);
            AutoencoderSignature.Check(label, session, info, AutoencoderContract.DecoderPart);
            return new KneeDecoder(path, sha, info, session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The autoencoder's parts run without ONNX Runtime's memory pattern: on one large graph per batch the arena keeps the
    /// first run's blocks and the second run adds the planned block beside them, so a batch of 16 at 128² peaked at
    /// 1.12 GB with it and 0.67 GB without, at the same speed (the shipped decoder, 2026-12-07, 2-core AVX2 EPYC).
    /// </summary>
    internal static RuntimeOptions WithoutMemoryPattern(RuntimeOptions runtime) => runtime with { MemoryPattern = false };

    private static void CheckAgainst(string label, DecoderInfo decoder, ModelInfo unet)
    {
        if (decoder.LatentChannels != unet.Channels || decoder.LatentSize != unet.ImageSize)
            throw new InvalidModelException($"{label} takes latents of {decoder.LatentChannels}×{decoder.LatentSize}², but the U-Net makes {unet.Channels}×{unet.ImageSize}²");
        if (decoder.ImageSize != unet.OutputImageSize)
            throw new InvalidModelException($"{label} writes {decoder.ImageSize}² images, but the U-Net's '{ModelContract.Keys.OutputImageSize}' is {unet.OutputImageSize}");
    }

    public void Dispose() => Session.Dispose();
}
