using System.Text.Json.Serialization;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>Everything that fixes the knee autoencoder's shape. Saved in its checkpoints and exported into the ONNX metadata.</summary>
public sealed record AutoencoderConfig
{
    public required string Preset { get; init; }
    /// <summary>The side of the whole images it encodes and decodes (it trains on crops; it is fully convolutional).</summary>
    public required int ImageSize { get; init; }
    /// <summary>Channel width per resolution level, highest resolution first; each level after the first halves the side.</summary>
    public required int[] Widths { get; init; }
    public int LatentChannels { get; init; } = 4;
    public int EncoderBlocks { get; init; } = 1;
    /// <summary>The decoder gets more blocks than the encoder (as in LDM's): it must invent the texture the latent does not hold.</summary>
    public int DecoderBlocks { get; init; } = DefaultDecoderBlocks;
    public const int DefaultDecoderBlocks = 2;
    /// <summary>
    /// The decoder's widths per level when they are not the encoder's (null = <see cref="Widths"/>): a lighter decoder
    /// trained behind a frozen encoder makes generation cheaper without touching the latents a U-Net learnt.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] // configs written before it existed stay byte-identical
    public int[]? DecoderWidths { get; init; }
    public required int NormGroups { get; init; }

    /// <summary>Downsampling factor f: the latent grid is ImageSize / f on a side.</summary>
    [JsonIgnore] public int Factor => 1 << (Widths.Length - 1);
    [JsonIgnore] public int LatentSize => ImageSize / Factor;
    [JsonIgnore] public int[] DecoderLevelWidths => DecoderWidths ?? Widths;
    /// <summary>What fixes the latents: the configuration without the decoder's shape, which a decoder trained behind a kept encoder may change.</summary>
    [JsonIgnore] public AutoencoderConfig EncoderSide => this with { DecoderWidths = null, DecoderBlocks = DefaultDecoderBlocks };

    public void Validate()
    {
        if (Widths.Length < 2) throw new ArgumentException("an autoencoder needs at least two levels (f ≥ 2)");
        if (Widths.Any(w => w <= 0 || w % NormGroups != 0))
            throw new ArgumentException($"every width must be a positive multiple of {NormGroups} norm groups: {string.Join(",", Widths)}");
        if (DecoderWidths is { } decoder && decoder.Length != Widths.Length)
            throw new ArgumentException($"the decoder needs one width per level of the encoder ({Widths.Length}: the same factor), got {string.Join(",", decoder)}");
        if (DecoderWidths is { } d && d.Any(w => w <= 0 || w % NormGroups != 0))
            throw new ArgumentException($"every decoder width must be a positive multiple of {NormGroups} norm groups: {string.Join(",", d)}");
        if (ImageSize % Factor != 0) throw new ArgumentException($"image size {ImageSize} must be divisible by the factor {Factor}");
        if (LatentChannels is < 1 or > 64) throw new ArgumentException($"latent channels must be in 1..64, got {LatentChannels}");
        if (EncoderBlocks < 1 || DecoderBlocks < 1) throw new ArgumentException("at least one ResNet block per level is needed");
    }
}

/// <summary>Named autoencoder sizes.</summary>
public static class AutoencoderPresets
{
    /// <summary>For tests and smoke runs: 32² images, f = 4.</summary>
    public const string Tiny = "kl-tiny";
    /// <summary>128² images → 32×32×4 latents (f = 4): LDM's factor with the best reconstruction-to-cost balance.</summary>
    public const string F4 = "kl-f4";
    /// <summary>128² images → 16×16×4 latents (f = 8): a quarter of the U-Net's cost, at a reconstruction cost.</summary>
    public const string F8 = "kl-f8";
    public static readonly IReadOnlyList<string> Names = [Tiny, F4, F8];

    public static AutoencoderConfig Get(string name, int? imageSize = null, int? latentChannels = null)
    {
        var config = name switch
        {
            Tiny => new AutoencoderConfig { Preset = Tiny, ImageSize = 32, Widths = [16, 32, 32], NormGroups = 8 },
            F4 => new AutoencoderConfig { Preset = F4, ImageSize = 128, Widths = [64, 128, 256], NormGroups = 32 },
            F8 => new AutoencoderConfig { Preset = F8, ImageSize = 128, Widths = [64, 128, 256, 256], NormGroups = 32 },
            _ => throw new ArgumentException($"unknown autoencoder preset '{name}' (expected {string.Join(", ", Names)})"),
        };
        config = config with { ImageSize = imageSize ?? config.ImageSize, LatentChannels = latentChannels ?? config.LatentChannels };
        config.Validate();
        return config;
    }
}
