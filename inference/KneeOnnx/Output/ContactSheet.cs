using KneeOnnx.Imaging;
using KneeOnnx.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace KneeOnnx.Output;

/// <summary>Tiles images into one 8-bit gray PNG: one row per grade (grade 0 on top), with a thin dark gutter.</summary>
public static class ContactSheet
{
    public const int Gutter = 4;

    /// <param name="rows">per row, its images (model space, side×side each).</param>
    public static void Write(string path, IReadOnlyList<IReadOnlyList<float[]>> rows, int side, int tile)
    {
        int columns = rows.Max(r => r.Count);
        int width = columns * tile + (columns + 1) * Gutter, height = rows.Count * tile + (rows.Count + 1) * Gutter;
        using var sheet = new Image<L8>(width, height, new L8(16));
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < rows[r].Count; c++)
            {
                var gray = rows[r][c].Select(v => new L8(PixelScale.ToByte(v))).ToArray();
                using var image = Image.LoadPixelData<L8>(gray, side, side);
                if (tile != side) image.Mutate(x => x.Resize(tile, tile, KnownResamplers.Bicubic));
                var at = new Point(Gutter + c * (tile + Gutter), Gutter + r * (tile + Gutter));
                sheet.Mutate(x => x.DrawImage(image, at, 1f));
            }
        AtomicFile.Write(path, s => sheet.SaveAsPng(s, new SixLabors.ImageSharp.Formats.Png.PngEncoder
        {
            ColorType = SixLabors.ImageSharp.Formats.Png.PngColorType.Grayscale,
            ChunkFilter = SixLabors.ImageSharp.Formats.Png.PngChunkFilter.ExcludeAll,
        }));
    }
}
