using System.Globalization;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Runs;
using Onnx;

namespace KneeOnnx.Training.Export;

/// <summary>
/// The decoder facts a latent U-Net's file carries: the decoder's path relative to the U-Net file (so a model folder
/// moves as a whole), its SHA-256 and the side of the images it writes. The encoder must be the one whose latents the run
/// trained on; the decoder is the folder's current one (it may have been fine-tuned since, the encoder frozen).
/// </summary>
public static class LatentExport
{
    public static void AddDecoder(ModelProto unet, TrainConfig train, string unetPath)
    {
        foreach (var (key, value) in DecoderMetadata(train, unetPath)) OnnxExporter.SetMetadata(unet, key, value);
    }

    /// <summary>The decoder keys for a U-Net at <paramref name="unetPath"/> (a file or a checkpoint); none for a pixel run.</summary>
    public static IEnumerable<(string Key, string Value)> DecoderMetadata(TrainConfig train, string unetPath)
    {
        if (train.Autoencoder is null) yield break;
        var files = AutoencoderFiles.Open(train.Autoencoder, "the run's autoencoder (moved? give its new folder with --autoencoder)");
        if (train.LatentMismatch(files) is { } mismatch) throw new ArgumentException(mismatch);
        string folder = Path.GetDirectoryName(Path.GetFullPath(unetPath))!;
        yield return (ModelContract.Keys.Decoder, Path.GetRelativePath(folder, files.DecoderPath).Replace('\\', '/'));
        yield return (ModelContract.Keys.DecoderSha256, files.DecoderSha256);
        yield return (ModelContract.Keys.OutputImageSize, files.ImageSize.ToString(CultureInfo.InvariantCulture));
    }
}
