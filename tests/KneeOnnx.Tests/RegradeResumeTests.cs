using KneeOnnx.Imaging;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// A long regrade (a whole train set at five grades takes hours on a CPU) must survive being stopped: --max-minutes
/// stops it between batches, and the same command again makes exactly the rest — together the bytes of one
/// uninterrupted run. Each knee's noise comes from its path under --input, not its place in the list, so a knee comes
/// out the same alone, in its folder, and after files are added beside it. A folder another request wrote is refused.
/// </summary>
public class RegradeResumeTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    /// <summary>Three distinct gray gradients as PNG "knees" (the tiny model reads anything).</summary>
    private static string Inputs(TempDirectory dir, params string[] names)
    {
        string folder = dir.Combine("in");
        Directory.CreateDirectory(folder);
        foreach (var (name, k) in names.Select((n, k) => (n, k)))
        {
            var pixels = new float[32 * 32];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = MathF.Sin(0.1f * (k + 1) * (i % 32) + 0.07f * (i / 32)) * 0.8f;
            GrayPngWriter.Write(Path.Combine(folder, name), pixels, 32);
        }
        return folder;
    }

    /// <summary>regrade on the tiny model with these options, <paramref name="options"/> (pairs) replacing or adding to them.</summary>
    private string[] Regrade(string input, string outDir, params string[] options)
    {
        var chosen = new Dictionary<string, string> { ["--grades"] = "1,3", ["--sampler"] = "ddim", ["--steps"] = "10", ["--strength"] = "0.6", ["--seed"] = "1", ["--batch"] = "2" };
        for (int k = 0; k + 1 < options.Length; k += 2) chosen[options[k]] = options[k + 1];
        return ["regrade", "--model", model.Path, "--provider", "cpu", "--input", input, "--out", outDir, .. chosen.SelectMany(p => new[] { p.Key, p.Value })];
    }

    [Fact]
    public void AStoppedRegradeResumesToTheBytesOfAnUninterruptedOne()
    {
        using var dir = new TempDirectory();
        string input = Inputs(dir, "a.png", "b.png", "c.png");
        string whole = dir.Combine("whole"), parts = dir.Combine("parts");
        // --size too: the sheet of a resumed run must not depend on which images it made itself.
        var (code, _, err) = InProcessCli.Generate(Regrade(input, whole, "--size", "40", "--sheet", dir.Combine("whole.png")));
        Assert.True(code == 0, err);
        Assert.Equal(6, PngFiles.Under(whole).Count);

        // A limit already over when the first batch ends: that batch is written and listed, nothing else, no sheet.
        (code, var stdout, err) = InProcessCli.Generate(Regrade(input, parts, "--size", "40", "--max-minutes", "0.000001", "--sheet", dir.Combine("parts.png")));
        Assert.True(code == 0, err);
        Assert.Contains("stopped by --max-minutes: 2 of 6 new images made", stdout);
        Assert.Equal(2, PngFiles.Under(parts).Count);
        Assert.Equal(1 + 2, File.ReadAllLines(Path.Combine(parts, "manifest.csv")).Length);
        Assert.False(File.Exists(dir.Combine("parts.png")));
        // A complete file the manifest does not list (a run killed before its next manifest) is not trusted: drawn again.
        File.WriteAllBytes(Path.Combine(parts, "3", "a_kl3.png"), File.ReadAllBytes(Path.Combine(input, "b.png")));

        (code, stdout, err) = InProcessCli.Generate(Regrade(input, parts, "--size", "40", "--max-minutes", "60", "--sheet", dir.Combine("parts.png")));
        Assert.True(code == 0, err);
        Assert.Contains("2 of 6 already made, 4 to make", stdout);
        var expected = PngFiles.Under(whole);
        var resumed = PngFiles.Under(parts);
        Assert.Equal(expected.Keys.Order(), resumed.Keys.Order());
        foreach (var (name, bytes) in expected)
            Assert.True(bytes.AsSpan().SequenceEqual(resumed[name]), $"{name} differs from the uninterrupted run's");
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "manifest.csv")), File.ReadAllText(Path.Combine(parts, "manifest.csv")));
        // The sheet reads the first run's versions back from their PNGs: the same sheet.
        Assert.True(File.ReadAllBytes(dir.Combine("whole.png")).AsSpan().SequenceEqual(File.ReadAllBytes(dir.Combine("parts.png"))), "the resumed run's sheet differs");

        // Done: the same command again makes nothing and changes nothing — a listed image is kept, not drawn again.
        var before = File.ReadAllText(Path.Combine(parts, "manifest.csv"));
        byte[] marker = File.ReadAllBytes(Path.Combine(input, "c.png"));
        File.WriteAllBytes(Path.Combine(parts, "1", "a_kl1.png"), marker);
        (code, stdout, err) = InProcessCli.Generate(Regrade(input, parts, "--size", "40"));
        Assert.True(code == 0, err);
        Assert.Contains("6 of 6 already made, 0 to make", stdout);
        Assert.Equal(before, File.ReadAllText(Path.Combine(parts, "manifest.csv")));
        Assert.True(marker.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(parts, "1", "a_kl1.png"))), "a listed image was drawn again");
    }

    [Fact]
    public void AKneeComesOutTheSameAloneInItsFolderAndWithFilesAddedBesideIt()
    {
        using var dir = new TempDirectory();
        string input = Inputs(dir, "b.png", "c.png");
        string folder = dir.Combine("folder"), alone = dir.Combine("alone"), grown = dir.Combine("grown");
        Assert.Equal(0, InProcessCli.Generate(Regrade(input, folder)).Code);
        Assert.Equal(0, InProcessCli.Generate(Regrade(Path.Combine(input, "c.png"), alone)).Code);
        // A file sorting before the others: by list position every knee's noise would move.
        File.Copy(Path.Combine(input, "c.png"), Path.Combine(input, "a.png"));
        Assert.Equal(0, InProcessCli.Generate(Regrade(input, grown)).Code);

        var first = PngFiles.Under(folder);
        Assert.Equal(4, first.Count);
        foreach (var (name, bytes) in first)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(grown, name))), $"{name} changed when a.png was added to the folder");
        foreach (string name in new[] { Path.Combine("1", "c_kl1.png"), Path.Combine("3", "c_kl3.png") })
            Assert.True(first[name].AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(alone, name))), $"{name} differs between the folder and the file alone");
        // a.png is c.png under another name: another key, another noise, so another image.
        Assert.False(first[Path.Combine("3", "c_kl3.png")].AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(grown, "3", "a_kl3.png"))), "a.png drew c.png's noise");

        // The folder grown by a file resumes: the earlier images are kept, only a.png's versions are made.
        var (code, stdout, err) = InProcessCli.Generate(Regrade(input, folder));
        Assert.True(code == 0, err);
        Assert.Contains("4 of 6 already made, 2 to make", stdout);
    }

    [Fact]
    public void AFolderAnotherRequestWroteIsRefusedAndLeftAsItWas()
    {
        using var dir = new TempDirectory();
        string input = Inputs(dir, "a.png", "b.png");
        string outDir = dir.Combine("out");
        Assert.Equal(0, InProcessCli.Generate(Regrade(input, outDir)).Code);
        string manifest = Path.Combine(outDir, "manifest.csv");

        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, "gen", Regrade(input, outDir, "--strength", "0.3"), $"{manifest}: written at strength 0.6, this run asks for 0.3");
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, "gen", Regrade(input, outDir, "--seed", "2"), "written with seed 1, this run asks for 2");
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, "gen", Regrade(input, outDir, "--steps", "12"), "written with 10 steps, this run asks for 12");
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, "gen", Regrade(input, outDir, "--size", "40"), "written at image size");
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, "gen", Regrade(input, outDir, "--clip-x0", "off"), "written with --clip-x0 auto, this run asks for off");
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, "gen", Regrade(input, outDir, "--grades", "1"), "3/a_kl3.png is not among the images this run makes");
        // The same names redrawn from other knees.
        string other = dir.Combine("other");
        Directory.CreateDirectory(other);
        foreach (string name in new[] { "a.png", "b.png" }) File.Copy(Path.Combine(input, name), Path.Combine(other, name));
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, "gen", Regrade(other, outDir), $"1/a_kl1.png was redrawn from {Path.Combine(input, "a.png")}, this run redraws {Path.Combine(other, "a.png")} into it");

        // Images made on another provider (here: the manifest says CUDA) are not this run's bytes.
        string[] rows = File.ReadAllLines(manifest);
        File.WriteAllLines(manifest, [rows[0], .. rows.Skip(1).Select(r => r[..r.LastIndexOf(',')] + ",cuda")]);
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, "gen", Regrade(input, outDir), "written on the cuda provider, this run uses cpu (give --provider cuda)");

        // generate's folder is not regrade's to resume.
        string generated = dir.Combine("generated");
        Assert.Equal(0, InProcessCli.Generate("generate", "--model", model.Path, "--provider", "cpu", "--steps", "2", "--grades", "1", "--per-grade", "1", "--out", generated).Code);
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, "gen", Regrade(input, generated), "not a regrade manifest");
    }
}
