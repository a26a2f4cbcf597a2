using System.Globalization;

namespace KneeOnnx.Runtime;

/// <summary>
/// The U-Net metadata that makes it a latent model: its decoder's file and SHA-256, the side of the images that decoder
/// writes, and whether x̂₀ may be clipped. The first three come together or not at all: a model naming a decoder it
/// cannot check, or an output size without a decoder, is contradictory.
/// </summary>
internal readonly record struct LatentMetadata(string? DecoderPath, string? DecoderSha256, int OutputImageSize, bool ClipSample)
{
    public const int MaxDecoderPathLength = 260;

    public static LatentMetadata Parse(string path, IReadOnlyDictionary<string, string> meta, int latentSize, int channels)
    {
        bool hasDecoder = meta.TryGetValue(ModelContract.Keys.Decoder, out var decoder);
        bool hasSha = meta.TryGetValue(ModelContract.Keys.DecoderSha256, out var sha);
        bool hasSize = meta.TryGetValue(ModelContract.Keys.OutputImageSize, out var rawSize);
        bool? clip = ParseClip(path, meta);
        if (!hasDecoder)
        {
            string? stray = hasSha ? ModelContract.Keys.DecoderSha256 : hasSize ? ModelContract.Keys.OutputImageSize : null;
            if (stray is not null)
                throw new InvalidModelException($"{path}: contradictory latent metadata: '{stray}' without '{ModelContract.Keys.Decoder}'");
            if (channels != 1)
                throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.Channels}' = {channels} needs a decoder ('{ModelContract.Keys.Decoder}' missing): a pixel model has 1 channel");
            return new LatentMetadata(null, null, latentSize, clip ?? true);
        }

        if (!hasSha || !hasSize)
            throw new InvalidModelException($"{path}: contradictory latent metadata: '{ModelContract.Keys.Decoder}' without '{(hasSha ? ModelContract.Keys.OutputImageSize : ModelContract.Keys.DecoderSha256)}'");
        if (string.IsNullOrWhiteSpace(decoder) || decoder.Length > MaxDecoderPathLength || decoder.Any(char.IsControl) || Path.IsPathRooted(decoder))
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.Decoder}' = '{ModelInfo.Shorten(decoder ?? "")}' is not a relative file path (at most {MaxDecoderPathLength} characters)");
        if (sha!.Length != 64 || !sha.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.DecoderSha256}' = '{ModelInfo.Shorten(sha)}' is not a lowercase hex SHA-256 (64 characters)");
        if (!int.TryParse(rawSize, NumberStyles.None, CultureInfo.InvariantCulture, out int size) || size < latentSize || size > ModelInfo.MaxImageSize || size % latentSize != 0)
            throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.OutputImageSize}' = '{ModelInfo.Shorten(rawSize ?? "")}' is not a multiple of the latent size {latentSize} in {latentSize}..{ModelInfo.MaxImageSize}");
        // Clipping to [-1, 1] is a pixel-space bound; a latent model that asks for it contradicts itself.
        if (clip == true)
            throw new InvalidModelException($"{path}: contradictory latent metadata: '{ModelContract.Keys.ClipSample}' = 'true' on a latent model (latents have no [-1, 1] bound)");
        return new LatentMetadata(decoder, sha, size, ClipSample: false);
    }

    private static bool? ParseClip(string path, IReadOnlyDictionary<string, string> meta)
    {
        if (!meta.TryGetValue(ModelContract.Keys.ClipSample, out var raw)) return null;
        return raw switch
        {
            "true" => true,
            "false" => false,
            _ => throw new InvalidModelException($"{path}: metadata '{ModelContract.Keys.ClipSample}' = '{ModelInfo.Shorten(raw)}' is not true or false"),
        };
    }
}
