using KneeOnnx.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace KneeOnnx.Imaging;

/// <summary>Writes model-space images as 8-bit grayscale PNGs, atomically, with deterministic bytes.</summary>
public static class GrayPngWriter
{
    private static readonly PngEncoder Encoder = new()
    {
        ColorType = PngColorType.Grayscale,
        BitDepth = PngBitDepth.Bit8,
        CompressionLevel = PngCompressionLevel.DefaultCompression,
        // No timestamps or text chunks: the same pixels always give the same file.
        ChunkFilter = PngChunkFilter.ExcludeAll,
    };

    /// <param name="pixels">side×side values in [-1, 1], row-major.</param>
    /// <param name="outputSide">optional side to resize to (e.g. 224 to sit beside the real images).</param>
    public static void Write(string path, ReadOnlySpan<float> pixels, int side, int? outputSide = null)
    {
        if (pixels.Length != side * side)
            throw new ArgumentException($"expected {side * side} pixels for a {side}x{side} image, got {pixels.Length}", nameof(pixels));
        var gray = new L8[side * side];
        for (int i = 0; i < gray.Length; i++)
            gray[i] = new L8(PixelScale.ToByte(pixels[i]));
        using var image = Image.LoadPixelData<L8>(gray, side, side);
        if (outputSide is int o && o != side)
            image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(o, o), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Bicubic }));
        AtomicFile.Write(path, stream => image.SaveAsPng(stream, Encoder));
    }
}
