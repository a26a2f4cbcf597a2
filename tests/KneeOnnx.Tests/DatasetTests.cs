using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace KneeOnnx.Tests;

public class DatasetTests
{
    [Fact]
    public void LoadsEveryGradeResizedAndScaled()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 3, side: 40);
        var data = KneeDataset.Load(dir.Path, "train", 32);
        Assert.Equal(15, data.Count);
        Assert.Equal([3, 3, 3, 3, 3], data.CountPerGrade());
        Assert.All(data.Images, img => Assert.Equal(32 * 32, img.Length));
        Assert.All(data.Images, img => Assert.All(img, v => Assert.InRange(v, -1f, 1f)));
        // Bright bone and dark gap both survive the resize: the scaling is not inverted or collapsed.
        Assert.True(data.Images[0].Max() > 0.2f && data.Images[0].Min() < -0.3f);
        Assert.Equal(64, data.Sha256.Length);
    }

    [Fact]
    public void SameFilesGiveTheSameHashAndChangedBytesDoNot()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 2, side: 16);
        string first = KneeDataset.Load(dir.Path, "train", 16).Sha256;
        Assert.Equal(first, KneeDataset.Load(dir.Path, "train", 16).Sha256);
        var victim = Directory.GetFiles(dir.Combine("train", "2"))[0];
        SyntheticKnees.WritePng(victim, SyntheticKnees.Pixels(4, 99, 16), 16);
        Assert.NotEqual(first, KneeDataset.Load(dir.Path, "train", 16).Sha256);
    }

    [Fact]
    public void CorruptPngIsAnErrorNamingTheFile()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 2, side: 16);
        string bad = dir.Combine("train", "3", "9999999L.png");
        File.WriteAllBytes(bad, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var e = Assert.Throws<DatasetException>(() => KneeDataset.Load(dir.Path, "train", 16));
        Assert.Contains(bad, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TruncatedPngIsAnErrorNamingTheFile()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 2, side: 16);
        string victim = Directory.GetFiles(dir.Combine("train", "1")).Order().First();
        var bytes = File.ReadAllBytes(victim);
        File.WriteAllBytes(victim, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<DatasetException>(() => KneeDataset.Load(dir.Path, "train", 16));
        Assert.Contains(victim, e.Message);
    }

    [Fact]
    public void UnreadableFilesCanBeSkippedAndCounted()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 2, side: 16);
        File.WriteAllText(dir.Combine("train", "0", "broken.png"), "not a png");
        var data = KneeDataset.Load(dir.Path, "train", 16, UnreadablePolicy.Skip);
        Assert.Equal(10, data.Count);
        Assert.Single(data.SkippedFiles);
        Assert.EndsWith("broken.png", data.SkippedFiles[0]);
    }

    [Fact]
    public void MissingGradeFolderIsAnErrorNamingIt()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 1, side: 16);
        Directory.Delete(dir.Combine("train", "4"), true);
        var e = Assert.Throws<DatasetException>(() => KneeDataset.Load(dir.Path, "train", 16));
        Assert.Contains(dir.Combine("train", "4"), e.Message);
        Assert.Contains("grade folder missing", e.Message);
    }

    [Fact]
    public void EmptyGradeFolderIsAnError()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 1, side: 16);
        foreach (var f in Directory.GetFiles(dir.Combine("train", "2"))) File.Delete(f);
        File.WriteAllText(dir.Combine("train", "2", "notes.txt"), "x");
        var e = Assert.Throws<DatasetException>(() => KneeDataset.Load(dir.Path, "train", 16));
        Assert.Contains(dir.Combine("train", "2"), e.Message);
        Assert.Contains("no PNG", e.Message);
    }

    [Fact]
    public void MissingRootOrSplitIsAnError()
    {
        using var dir = new TempDirectory();
        var e1 = Assert.Throws<DatasetException>(() => KneeDataset.Load(dir.Combine("nope"), "train", 16));
        Assert.Contains(dir.Combine("nope"), e1.Message);
        var e2 = Assert.Throws<DatasetException>(() => KneeDataset.Load(dir.Path, "val", 16));
        Assert.Contains(dir.Combine("val"), e2.Message);
    }

    [Fact]
    public void SymlinkLoopIsAnErrorNamingTheFile()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 1, side: 16);
        string loop = dir.Combine("train", "1", "loop.png");
        File.CreateSymbolicLink(loop, loop);
        var e = Assert.Throws<DatasetException>(() => KneeDataset.Load(dir.Path, "train", 16));
        Assert.Contains(loop, e.Message);
    }

    [Fact]
    public void SymlinkedFolderLoopsAreNotFollowed()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 1, side: 16);
        Directory.CreateSymbolicLink(dir.Combine("train", "2", "again"), dir.Combine("train"));
        var data = KneeDataset.Load(dir.Path, "train", 16);
        Assert.Equal(5, data.Count);
    }

    [Fact]
    public void DecompressionBombIsRefusedFromItsHeader()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 1, side: 16);
        string bomb = dir.Combine("train", "3", "bomb.png");
        File.WriteAllBytes(bomb, PngHeaderOnly(100_000, 100_000));
        var e = Assert.Throws<DatasetException>(() => KneeDataset.Load(dir.Path, "train", 16));
        Assert.Contains(bomb, e.Message);
        Assert.Contains("outside the accepted size", e.Message);
    }

    /// <summary>A PNG signature and an IHDR chunk claiming the given size, with a correct CRC and no pixel data.</summary>
    private static byte[] PngHeaderOnly(int width, int height)
    {
        var ihdr = new List<byte>("IHDR"u8.ToArray());
        ihdr.AddRange(BigEndian(width));
        ihdr.AddRange(BigEndian(height));
        ihdr.AddRange(new byte[] { 8, 0, 0, 0, 0 }); // 8-bit gray, no interlace
        var bytes = new List<byte> { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
        bytes.AddRange(BigEndian(13));
        bytes.AddRange(ihdr);
        bytes.AddRange(BigEndian((int)Crc32(ihdr.ToArray())));
        return bytes.ToArray();
    }

    private static byte[] BigEndian(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void NonPngFilesAreIgnoredAndCounted()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 1, side: 16);
        File.WriteAllText(dir.Combine("train", "0", "readme.txt"), "x");
        var data = KneeDataset.Load(dir.Path, "train", 16);
        Assert.Equal(5, data.Count);
        Assert.Equal(1, data.IgnoredNonPngFiles);
    }

    [Fact]
    public void ColourAndSixteenBitPngsAreConvertedToGray()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, perGrade: 1, side: 16);
        using (var rgb = new Image<Rgb24>(20, 12, new Rgb24(255, 255, 255)))
            rgb.SaveAsPng(dir.Combine("train", "1", "rgb.png"));
        using (var deep = new Image<L16>(16, 16, new L16(0)))
            deep.SaveAsPng(dir.Combine("train", "2", "deep.png"));
        var data = KneeDataset.Load(dir.Path, "train", 16);
        Assert.Equal(7, data.Count);
        Assert.Equal(2, data.ConvertedImages);
        int white = data.Files.ToList().FindIndex(f => f.EndsWith("rgb.png"));
        int black = data.Files.ToList().FindIndex(f => f.EndsWith("deep.png"));
        Assert.All(data.Images[white], v => Assert.Equal(1f, v, 3));
        Assert.All(data.Images[black], v => Assert.Equal(-1f, v, 3));
    }
}
