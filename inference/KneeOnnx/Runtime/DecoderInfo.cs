using System.Globalization;

namespace KneeOnnx.Runtime;

/// <summary>What an exported autoencoder decoder says about itself (<see cref="AutoencoderContract"/>), read from its metadata.</summary>
public sealed record DecoderInfo
{
    public required int LatentChannels { get; init; }
    public required int LatentSize { get; init; }
    public required int ImageSize { get; init; }
    /// <summary>The latents the decoder takes are the autoencoder's posterior means times this; it divides by it itself.</summary>
    public required double ScaleFactor { get; init; }
    /// <summary>SHA-256 of the trained autoencoder weights (shared by its encoder and decoder).</summary>
    public required string AutoencoderSha256 { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    public int Factor => ImageSize / LatentSize;

    /// <param name="label">starts every error line: the U-Net and the decoder file, so a refusal names both.</param>
    public static DecoderInfo Parse(string label, IReadOnlyDictionary<string, string> meta) => Parse(label, meta, AutoencoderContract.DecoderPart);

    /// <summary>
    /// The same facts from either part of the pair: the encoder carries the latent shape, image size, scale factor and
    /// pair SHA-256 under the same keys (<see cref="KneeEncoder"/> checks them against the decoder's).
    /// </summary>
    internal static DecoderInfo Parse(string label, IReadOnlyDictionary<string, string> meta, string part)
    {
        string Require(string key) =>
            meta.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v) ? v
                : throw new InvalidModelException($"{label}: not a KneeOnnx {(part == AutoencoderContract.DecoderPart ? "decoder" : "encoder")} (metadata '{key}' missing)");
        int Int(string key, int min, int max)
        {
            string raw = Require(key);
            if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
                throw new InvalidModelException($"{label}: metadata '{key}' = '{ModelInfo.Shorten(raw)}' is not an integer in {min}..{max}");
            return v;
        }

        string format = Require(ModelContract.Keys.FormatVersion);
        if (format != ModelContract.FormatVersion)
            throw new InvalidModelException($"{label}: {(part == AutoencoderContract.DecoderPart ? "decoder" : "encoder")} format {ModelInfo.Shorten(format)} is not supported (expected {ModelContract.FormatVersion})");
        string actualPart = Require(AutoencoderContract.Keys.Part);
        if (actualPart != part)
            throw new InvalidModelException($"{label}: metadata '{AutoencoderContract.Keys.Part}' = '{ModelInfo.Shorten(actualPart)}' (expected {part})");
        int channels = Int(AutoencoderContract.Keys.LatentChannels, 1, ModelInfo.MaxChannels);
        int latentSize = Int(AutoencoderContract.Keys.LatentSize, 1, ModelInfo.MaxImageSize);
        int imageSize = Int(ModelContract.Keys.ImageSize, 8, ModelInfo.MaxImageSize);
        if (imageSize % latentSize != 0)
            throw new InvalidModelException($"{label}: image size {imageSize} is not a multiple of the latent size {latentSize}");
        if (meta.TryGetValue(AutoencoderContract.Keys.Factor, out var rawFactor) && rawFactor != (imageSize / latentSize).ToString(CultureInfo.InvariantCulture))
            throw new InvalidModelException($"{label}: metadata '{AutoencoderContract.Keys.Factor}' = '{ModelInfo.Shorten(rawFactor)}' contradicts {imageSize} / {latentSize}");
        string rawScale = Require(AutoencoderContract.Keys.ScaleFactor);
        if (!double.TryParse(rawScale, NumberStyles.Float, CultureInfo.InvariantCulture, out double scale) || !double.IsFinite(scale) || scale <= 0)
            throw new InvalidModelException($"{label}: metadata '{AutoencoderContract.Keys.ScaleFactor}' = '{ModelInfo.Shorten(rawScale)}' is not a positive number");
        return new DecoderInfo
        {
            LatentChannels = channels, LatentSize = latentSize, ImageSize = imageSize, ScaleFactor = scale,
            AutoencoderSha256 = Require(AutoencoderContract.Keys.AutoencoderSha256), Metadata = new Dictionary<string, string>(meta),
        };
    }
}
