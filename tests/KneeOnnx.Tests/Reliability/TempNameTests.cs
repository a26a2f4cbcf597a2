using System.Text;
using KneeOnnx.IO;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// A legal output name (up to 255 bytes) used to fail after all the work was done, because ".NAME.PID.GUID.partial"
/// exceeded the file-name limit. Long names now get a shortened, hashed stem in their temporaries.
/// </summary>
public class TempNameTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private const int NameLimit = 255;

    public static TheoryData<string> LongNames() => new()
    {
        new string('a', 251) + ".png",                       // 255 ASCII bytes
        new string('é', 125) + "x.png",                      // 256 bytes would be illegal: 250 + 5 = 255
        new string('b', 200) + ".png",                       // just under the stem limit
        string.Concat(Enumerable.Repeat("🦴", 62)) + ".png", // 4-byte characters (252 bytes), cut at a character boundary
    };

    [Theory]
    [MemberData(nameof(LongNames))]
    public void TheLongestLegalNamesAreWrittenAndTheirTemporariesStayWithinTheLimit(string name)
    {
        Assert.True(Encoding.UTF8.GetByteCount(name) <= NameLimit, "test name itself illegal");
        using var dir = new TempDirectory();
        string seenTemp = "";
        AtomicFile.Write(dir.Combine(name), _ => seenTemp = Directory.GetFiles(dir.Path).Single());
        Assert.True(Encoding.UTF8.GetByteCount(Path.GetFileName(seenTemp)) <= NameLimit, $"temporary name of {Encoding.UTF8.GetByteCount(Path.GetFileName(seenTemp))} bytes");
        Assert.Equal(AtomicFile.StemOf(name), AtomicFile.TargetOf(Path.GetFileName(seenTemp)));
        Assert.Equal([dir.Combine(name)], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ShortNamesAreTheirOwnStemAndLongOnesStayApart()
    {
        Assert.Equal("kl2_ddim4_s9_000002.png", AtomicFile.StemOf("kl2_ddim4_s9_000002.png"));
        string a = new string('x', 240) + "a.png", b = new string('x', 240) + "b.png";
        Assert.NotEqual(AtomicFile.StemOf(a), AtomicFile.StemOf(b));
        Assert.True(Encoding.UTF8.GetByteCount(AtomicFile.StemOf(a)) <= AtomicFile.MaxStemBytes);
    }

    [Fact]
    public void ATornTemporaryOfALongNameIsRecognisedAndRemovedByItsOwner()
    {
        using var dir = new TempDirectory();
        string mine = new string('m', 240) + ".png", theirs = new string('m', 240) + "2.png";
        File.WriteAllText(dir.Combine($".{AtomicFile.StemOf(mine)}.4242.{Guid.NewGuid():N}{AtomicFile.TempSuffix}"), "torn");
        File.WriteAllText(dir.Combine($".{AtomicFile.StemOf(theirs)}.4243.{Guid.NewGuid():N}{AtomicFile.TempSuffix}"), "torn");
        Assert.Equal(1, AtomicFile.RemoveStaleTemporaries(dir.Path, stem => stem == AtomicFile.StemOf(mine)));
        Assert.Equal(1, AtomicFile.RemoveStaleTemporaries(dir.Path));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void GridWritesAContactSheetUnderA250CharacterName()
    {
        using var dir = new TempDirectory();
        string sheet = dir.Combine(new string('g', 246) + ".png");
        var result = InProcessCli.Generate("grid", "--model", model.Path, "--provider", "cpu", "--grades", "0", "--per-grade", "1", "--steps", "2", "--out", sheet);
        Assert.True(result.Code == 0, result.Err);
        Assert.Equal([sheet], Directory.GetFiles(dir.Path));
    }
}
