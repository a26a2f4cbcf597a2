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

    /// <summary>
    /// Read through a smaller side, a 2-pixel checkerboard (a detail no 56² image can hold) comes back as flat gray at
    /// full size, while a direct read keeps it exactly; an image no larger than the via side is read as before.
    /// </summary>
    [Fact]
    public void AViaSideTakesOutTheDetailASmallerImageCannotHold()
    {
        using var dir = new TempDirectory();
        const int side = 224;
        var board = Enumerable.Range(0, side * side).Select(i => (i / side + i % side) % 2 == 0 ? -0.6f : 0.6f).Select(v => PixelScale.ToModel(PixelScale.ToByte(v))).ToArray();
        string path = dir.Combine("board.png");
        GrayPngWriter.Write(path, board, side);

        Assert.Equal(board, new GrayImageReader().ReadScaled(path, side));
        var through = new GrayImageReader(viaSide: 56).ReadScaled(path, side);
        // Away from the borders, the alternation is gone: every pixel within a few gray levels of the board's mean (0).
        double worst = Enumerable.Range(8, side - 16).SelectMany(y => Enumerable.Range(8, side - 16).Select(x => Math.Abs(through[y * side + x]))).Max();
        Assert.True(worst < 0.05, $"largest deviation from the mean {worst:F3} after passing through 56²");

        string small = dir.Combine("small.png");
        var smallPixels = SyntheticKnees.Pixels(1, 0, 48).Select(PixelScale.ToModel).ToArray();
        GrayPngWriter.Write(small, smallPixels, 48);
        Assert.Equal(new GrayImageReader().ReadScaled(small, 96), new GrayImageReader(viaSide: 56).ReadScaled(small, 96));
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
