using KneeOnnx.Imaging;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

public class ImagingTests
{
    [Fact]
    public void PixelScaleRoundTripsEveryByte()
    {
        for (int b = 0; b < 256; b++)
            Assert.Equal((byte)b, PixelScale.ToByte(PixelScale.ToModel((byte)b)));
    }

    [Theory]
    [InlineData(-1.5f, 0)]
    [InlineData(1.7f, 255)]
    [InlineData(float.NaN, 0)]
    [InlineData(0f, 128)]
    public void OutOfRangeValuesClampInsteadOfWrapping(float value, byte expected) =>
        Assert.Equal(expected, PixelScale.ToByte(value));

    [Fact]
    public void WrittenPngReadsBackToTheSamePixels()
    {
        using var dir = new TempDirectory();
        var pixels = Enumerable.Range(0, 16 * 16).Select(i => PixelScale.ToModel((byte)(i % 256))).ToArray();
        string path = dir.Combine("x.png");
        GrayPngWriter.Write(path, pixels, 16);
        var back = new GrayImageReader().ReadScaled(path, 16);
        Assert.Equal(pixels, back);
    }

    [Fact]
    public void SamePixelsGiveByteIdenticalFiles()
    {
        using var dir = new TempDirectory();
        var pixels = SyntheticKnees.Pixels(2, 0, 24).Select(PixelScale.ToModel).ToArray();
        GrayPngWriter.Write(dir.Combine("a.png"), pixels, 24);
        GrayPngWriter.Write(dir.Combine("b.png"), pixels, 24, outputSide: 24);
        Assert.Equal(File.ReadAllBytes(dir.Combine("a.png")), File.ReadAllBytes(dir.Combine("b.png")));
    }

    [Fact]
    public void OversizedImageIsRefusedBeforeDecoding()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("big.png");
        SyntheticKnees.WritePng(path, new byte[64 * 64], 64);
        var e = Assert.Throws<InvalidImageException>(() => new GrayImageReader(maxPixels: 1000).ReadScaled(path, 16));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void NonPngFormatsAreRefused()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("x.png");
        using (var img = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.L8>(8, 8))
            SixLabors.ImageSharp.ImageExtensions.SaveAsBmp(img, path);
        var e = Assert.Throws<InvalidImageException>(() => new GrayImageReader().ReadScaled(path, 8));
        Assert.Contains("not a PNG", e.Message);
    }
}
