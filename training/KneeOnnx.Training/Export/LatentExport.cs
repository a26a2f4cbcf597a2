using System.Globalization;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Runs;
using Onnx;

namespace KneeOnnx.Training.Export;

/// <summary>
/// The decoder facts a latent U-Net's file carries: the decoder's path relative to the U-Net file (so a model folder
/// moves as a whole), its SHA-256 and the side of the images it writes. The decoder must be the one the run trained on.
/// </summary>
public static class LatentExport
{
    public static void AddDecoder(ModelProto unet, TrainConfig train, string unetPath)
    {
        if (train.Autoencoder is null) return;
        var files = AutoencoderFiles.Open(train.Autoencoder, "the run's autoencoder");
        if (train.DecoderSha256 is { } trained && trained != files.DecoderSha256)
            throw new ArgumentException($"{files.DecoderPath}: the decoder has changed since the run trained on its latents (sha256 {files.DecoderSha256[..16]}…, the run's {trained[..16]}…)");
        string folder = Path.GetDirectoryName(Path.GetFullPath(unetPath))!;
        string relative = Path.GetRelativePath(folder, files.DecoderPath).Replace('\\', '/');
        OnnxExporter.SetMetadata(unet, ModelContract.Keys.Decoder, relative);
        OnnxExporter.SetMetadata(unet, ModelContract.Keys.DecoderSha256, files.DecoderSha256);
        OnnxExporter.SetMetadata(unet, ModelContract.Keys.OutputImageSize, files.ImageSize.ToString(CultureInfo.InvariantCulture));
    }
}
