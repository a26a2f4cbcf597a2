namespace KneeOnnx.Training.Model;

/// <summary>Named network sizes. <c>paper</c> is the technical report's; the others fit a CPU budget.</summary>
public static class Presets
{
    public const string Tiny = "tiny";
    public const string Small = "small";
    public const string Paper = "paper";
    public const string Paper224 = "paper-224";
    /// <summary>Latent U-Nets (with --autoencoder): the grid is the autoencoder's latent (32² for kl-f4), c channels.</summary>
    public const string LatentTiny = "latent-xs";
    public const string LatentSmall = "latent-s";
    public const string LatentMedium = "latent-m";
    public static readonly IReadOnlyList<string> Names = [Tiny, Small, Paper, Paper224, LatentTiny, LatentSmall, LatentMedium];
    public static bool IsLatent(string name) => name is LatentTiny or LatentSmall or LatentMedium;

    public static UNetConfig Get(string name, string conditioning = Conditioning.Add, bool nullGrade = false, bool sides = false, int? imageSize = null, int channels = 1)
    {
        UNetConfig config = name switch
        {
            // 32²: for tests and smoke runs; seconds per hundred steps.
            Tiny => new UNetConfig
            {
                Preset = Tiny, ImageSize = 32, Widths = [32, 64, 64], BlocksPerLevel = 1, AttentionLevels = [2], NormGroups = 8,
            },
            // 64²: the joint space stays several pixels wide; about 6 training images/s on 2 CPU cores.
            Small => new UNetConfig
            {
                Preset = Small, ImageSize = 64, Widths = [32, 64, 128, 256], BlocksPerLevel = 1, AttentionLevels = [3], NormGroups = 8,
            },
            // The report: 128², widths 128,128,256,256,512,512, two blocks per level, attention at 8×8 and in the middle.
            Paper => new UNetConfig
            {
                Preset = Paper, ImageSize = 128, Widths = [128, 128, 256, 256, 512, 512], BlocksPerLevel = 2, AttentionLevels = [4], NormGroups = 32,
            },
            // The report's future work: the same U-Net at the data's native 224² (five halvings: 224 → 7). Attention stays
            // on the second-lowest level, now 14×14 (196 tokens) where the report had 8×8, and in the middle (7×7).
            Paper224 => new UNetConfig
            {
                Preset = Paper224, ImageSize = 224, Widths = [128, 128, 256, 256, 512, 512], BlocksPerLevel = 2, AttentionLevels = [4], NormGroups = 32,
            },
            // The report's question of smaller architectures, on latents: half latent-s's widths, a quarter of its cost.
            LatentTiny => new UNetConfig
            {
                Preset = LatentTiny, ImageSize = 32, Channels = 4, Widths = [32, 64, 128], BlocksPerLevel = 1, AttentionLevels = [2], NormGroups = 32,
            },
            // 32×32×4 latents: three levels (32, 16, 8), attention at 8×8 and in the middle; about the small preset's
            // parameters at a quarter of its grid.
            LatentSmall => new UNetConfig
            {
                Preset = LatentSmall, ImageSize = 32, Channels = 4, Widths = [64, 128, 256], BlocksPerLevel = 1, AttentionLevels = [2], NormGroups = 32,
            },
            // The same grid with the report's two blocks per level and wider levels.
            LatentMedium => new UNetConfig
            {
                Preset = LatentMedium, ImageSize = 32, Channels = 4, Widths = [128, 256, 256], BlocksPerLevel = 2, AttentionLevels = [2], NormGroups = 32,
            },
            _ => throw new ArgumentException($"unknown preset '{name}' (expected {string.Join(", ", Names)})"),
        };
        config = config with
        {
            Conditioning = conditioning, HasNullGrade = nullGrade && conditioning != Conditioning.None, SideConditioned = sides,
            ImageSize = imageSize ?? config.ImageSize, Channels = IsLatent(name) ? channels : config.Channels,
        };
        config.Validate();
        return config;
    }
}
