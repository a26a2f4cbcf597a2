using System.Text.Json.Serialization;

namespace KneeOnnx.Training.Model;

/// <summary>How the KL grade reaches the network.</summary>
public static class Conditioning
{
    /// <summary>A learned 32-d grade embedding broadcast over the image and concatenated to the input (the report's text).</summary>
    public const string Concat = "concat";
    /// <summary>The grade embedding projected and added to the timestep embedding (the report's released code).</summary>
    public const string Add = "add";
    /// <summary>Unconditional.</summary>
    public const string None = "none";

    public static readonly IReadOnlyList<string> All = [Concat, Add, None];
}

/// <summary>Everything that fixes the network's shape. Saved in checkpoints and exported into the ONNX metadata.</summary>
public sealed record UNetConfig
{
    public required string Preset { get; init; }
    public required int ImageSize { get; init; }
    public int Channels { get; init; } = 1;
    /// <summary>Channel width of each resolution level, highest resolution first; each level after the first halves the side.</summary>
    public required int[] Widths { get; init; }
    public required int BlocksPerLevel { get; init; }
    /// <summary>
    /// ResNet blocks per decoder level when fewer than the usual <see cref="BlocksPerLevel"/> + 1 (a lean decoder: each
    /// level then concatenates only its deepest skips and lets the rest go); null = the usual count. Absent from the
    /// metadata of files with the usual decoder, so their configuration reads as before.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? UpBlocksPerLevel { get; init; }
    /// <summary>Indexes into <see cref="Widths"/> of the levels that get self-attention after each ResNet block.</summary>
    public required int[] AttentionLevels { get; init; }
    public bool MidAttention { get; init; } = true;
    public required int NormGroups { get; init; }
    public string Conditioning { get; init; } = Model.Conditioning.Add;
    public int GradeEmbeddingDim { get; init; } = 32;
    public int NumGrades { get; init; } = KlGrades.Count;
    /// <summary>True when an extra "no grade" embedding exists (trained with label dropout), enabling classifier-free guidance.</summary>
    public bool HasNullGrade { get; init; }
    /// <summary>True when the knee side (L, R, or the null side "either") is a second condition beside the grade.</summary>
    public bool SideConditioned { get; init; }
    public double Dropout { get; init; }

    /// <summary>ResNet blocks in each decoder level.</summary>
    [JsonIgnore] public int UpBlocks => UpBlocksPerLevel ?? BlocksPerLevel + 1;
    [JsonIgnore] public int TimeEmbeddingDim => Widths[0] * 4;
    [JsonIgnore] public bool IsConditional => Conditioning != Model.Conditioning.None;
    [JsonIgnore] public int NullGrade => HasNullGrade ? NumGrades : -1;
    [JsonIgnore] public int GradeTableSize => NumGrades + (HasNullGrade ? 1 : 0);
    [JsonIgnore] public int NullSide => SideConditioned ? KneeSides.Null : KneeSides.None;

    public void Validate()
    {
        if (!Model.Conditioning.All.Contains(Conditioning))
            throw new ArgumentException($"conditioning '{Conditioning}' is not one of {string.Join(", ", Model.Conditioning.All)}");
        if (Widths.Length == 0 || Widths.Any(w => w <= 0 || w % NormGroups != 0))
            throw new ArgumentException($"every width must be a positive multiple of {NormGroups} norm groups: {string.Join(",", Widths)}");
        if (ImageSize % (1 << (Widths.Length - 1)) != 0)
            throw new ArgumentException($"image size {ImageSize} must be divisible by 2^{Widths.Length - 1} for {Widths.Length} levels");
        if (SideConditioned && !IsConditional)
            throw new ArgumentException("side conditioning needs grade conditioning (add or concat), not 'none'");
        if (BlocksPerLevel < 1) throw new ArgumentException("at least one ResNet block per level is needed");
        if (UpBlocksPerLevel is int up && (up < 1 || up > BlocksPerLevel + 1))
            throw new ArgumentException($"decoder blocks per level must be 1 to {BlocksPerLevel + 1} (one per skip the encoder level gives), got {up}");
        if (AttentionLevels.Any(l => l < 0 || l >= Widths.Length))
            throw new ArgumentException($"attention levels {string.Join(",", AttentionLevels)} are outside 0..{Widths.Length - 1}");
    }
}
