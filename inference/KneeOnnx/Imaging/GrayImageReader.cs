using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace KneeOnnx.Imaging;

/// <summary>
/// Reads PNG files as single-channel images in model space: resized to a square side and scaled to [-1, 1].
/// Only the PNG decoder is registered and the header's pixel count is checked before any pixel buffer exists,
/// so a non-PNG file or a decompression bomb is refused rather than decoded.
/// </summary>
public sealed class GrayImageReader
{
    /// <summary>Largest accepted image, in pixels (the dataset's images have 50,176).</summary>
    public const long DefaultMaxPixels = 4096L * 4096L;

    private static readonly Configuration PngOnly = new(new PngConfigurationModule());
    private readonly long _maxPixels;
    private readonly int? _viaSide;

    /// <param name="viaSide">
    /// When set, a larger image is first brought down to this side (8-bit, as a generated image is written) and only
    /// then resized to the side asked for: real images then reach a classifier through the same resolution a model's
    /// images had, so what it scores is the content, not the resolution.
    /// </param>
    public GrayImageReader(long maxPixels = DefaultMaxPixels, int? viaSide = null)
    {
        if (viaSide is <= 0) throw new ArgumentOutOfRangeException(nameof(viaSide), $"via side must be positive, got {viaSide}");
        _maxPixels = maxPixels;
        _viaSide = viaSide;
    }

    /// <summary>Decodes <paramref name="path"/>, converts colour or 16-bit input to 8-bit gray, resizes to side×side.</summary>
    public float[] ReadScaled(string path, int side)
    {
        using var stream = OpenForRead(path);
        return ReadScaled(stream, path, side);
    }

    /// <summary>As <see cref="ReadScaled(string,int)"/> for bytes already read; <paramref name="name"/> names them in errors.</summary>
    public float[] ReadScaled(byte[] png, string name, int side) => ReadScaled(png, name, side, out _);

    /// <param name="converted">true when the file was not already 8-bit gray and square (colour, 16-bit, palette, odd-sized).</param>
    public float[] ReadScaled(byte[] png, string name, int side, out bool converted)
    {
        using var stream = new MemoryStream(png, writable: false);
        return ReadScaled(stream, name, side, out converted);
    }

    private float[] ReadScaled(Stream stream, string path, int side) => ReadScaled(stream, path, side, out _);

    private float[] ReadScaled(Stream stream, string path, int side, out bool converted)
    {
        if (side <= 0) throw new ArgumentOutOfRangeException(nameof(side), $"image side must be positive, got {side}");
        var pixels = new float[side * side];
        using var image = Decode(stream, path);
        var png = image.Metadata.GetPngMetadata();
        converted = png.ColorType != PngColorType.Grayscale || png.BitDepth != PngBitDepth.Bit8 || image.Width != image.Height;
        if (_viaSide is int via && via < side && via < Math.Max(image.Width, image.Height))
            image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(via, via), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Bicubic }));
        if (image.Width != side || image.Height != side)
            image.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(side, side), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Bicubic }));
        var gray = new L8[side * side];
        image.CopyPixelDataTo(gray);
        for (int i = 0; i < gray.Length; i++)
            pixels[i] = PixelScale.ToModel(gray[i].PackedValue);
        return pixels;
    }

    /// <summary>The image's width and height from its header, without decoding pixels.</summary>
    public (int Width, int Height) ReadSize(string path)
    {
        using var stream = OpenForRead(path);
        var info = IdentifyChecked(path, stream);
        return (info.Width, info.Height);
    }

    private Image<L8> Decode(Stream stream, string path)
    {
        IdentifyChecked(path, stream);
        stream.Position = 0;
        try
        {
            return Image.Load<L8>(PngOnly, stream);
        }
        catch (Exception e) when (e is ImageFormatException or UnknownImageFormatException or InvalidDataException or EndOfStreamException or NotSupportedException)
        {
            throw new InvalidImageException(path, $"not a readable PNG ({e.Message})", e);
        }
    }

    private SixLabors.ImageSharp.IImageInfo IdentifyChecked(string path, Stream stream)
    {
        SixLabors.ImageSharp.IImageInfo? info;
        try
        {
            info = Image.Identify(PngOnly, stream);
        }
        catch (Exception e) when (e is ImageFormatException or InvalidDataException or EndOfStreamException or NotSupportedException)
        {
            throw new InvalidImageException(path, $"not a readable PNG ({e.Message})", e);
        }
        if (info is null)
            throw new InvalidImageException(path, "not a PNG file");
        if (info.Width <= 0 || info.Height <= 0 || (long)info.Width * info.Height > _maxPixels)
            throw new InvalidImageException(path, $"image of {info.Width}x{info.Height} pixels is outside the accepted size (at most {_maxPixels} pixels)");
        return info;
    }

    private static FileStream OpenForRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidImageException(path, $"cannot be opened ({e.Message})", e);
        }
    }
}
