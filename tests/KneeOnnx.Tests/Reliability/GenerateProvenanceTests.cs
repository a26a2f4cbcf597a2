using System.Runtime.InteropServices;
using KneeOnnx.Output;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// A resumed generate never lets its manifest claim that a model made an image it did not: rerunning into a folder
/// written with another model, image size, sampler, step count, η, guidance, seed or provider is refused in one line saying
/// what differs, before any file or folder is touched; the same command rerun still resumes.
/// </summary>
public class GenerateProvenanceTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private string[] Generate(string outDir, params string[] changes) => GenerateWith(model.Path, outDir, changes);

    /// <summary>The base request with <paramref name="changes"/> (option, value pairs) replacing or adding options (the CLI refuses an option given twice).</summary>
    private static string[] GenerateWith(string modelPath, string outDir, params string[] changes)
    {
        var options = new Dictionary<string, string>
        {
            ["--model"] = modelPath, ["--provider"] = "cpu", ["--steps"] = "3", ["--seed"] = "9", ["--grades"] = "1", ["--per-grade"] = "2", ["--out"] = outDir,
        };
        for (int i = 0; i < changes.Length; i += 2) options[changes[i]] = changes[i + 1];
        return ["generate", .. options.SelectMany(o => new[] { o.Key, o.Value })];
    }

    private static Dictionary<string, byte[]> Snapshot(string root) =>
        Refusal.Tree(root).Where(File.Exists).ToDictionary(f => f, File.ReadAllBytes);

    /// <summary>Runs a refused command and checks that nothing under <paramref name="root"/> changed or appeared.</summary>
    private static void RefusedLeavingAllAsItWas(string root, string[] args, string expected)
    {
        var names = Refusal.Tree(root);
        var before = Snapshot(root);
        Refusal.Check(InProcessCli.Generate(args), expected);
        Assert.Equal(names, Refusal.Tree(root));
        foreach (var (file, bytes) in before)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(file)), $"{file} changed");
    }

    [Fact]
    public void TheSameCommandRerunStillResumes()
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        Assert.Equal(0, InProcessCli.Generate(Generate(outDir)).Code);
        var again = InProcessCli.Generate(Generate(outDir, "--per-grade", "3"));
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("2 already present, 1 to make", again.Out);
        Assert.Equal(1 + 3, File.ReadAllLines(Path.Combine(outDir, "manifest.csv")).Length);
    }

    [Fact]
    public void AFolderMadeOnAnotherProviderIsRefused()
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out"), manifest = Path.Combine(outDir, "manifest.csv");
        Assert.Equal(0, InProcessCli.Generate(Generate(outDir)).Code);
        // As a GPU machine would have written it: the same rows, the provider column cuda.
        string[] rows = File.ReadAllLines(manifest);
        File.WriteAllLines(manifest, [rows[0], .. rows.Skip(1).Select(r => r[..r.LastIndexOf(',')] + ",cuda")]);
        RefusedLeavingAllAsItWas(dir.Path, Generate(outDir, "--per-grade", "3"), "manifest.csv: written on the cuda provider, this run uses cpu (give --provider cuda); choose another --out");
    }

    public static TheoryData<string[], string> OtherRequests() => new()
    {
        { ["--sampler", "ddim"], "manifest.csv: written with sampler ddpm, this run asks for ddim; choose another --out" },
        { ["--steps", "4"], "manifest.csv: written with 3 steps, this run asks for 4; choose another --out" },
        { ["--guidance", "2"], "manifest.csv: written with guidance 1, this run asks for 2; choose another --out" },
        { ["--seed", "10"], "manifest.csv: written with seed 9, this run asks for 10; choose another --out" },
        { ["--size", "48"], "manifest.csv: written at image size 32, this run writes 48; choose another --out" },
    };

    [Fact]
    public void AnotherEtaIntoTheFolderIsRefused()
    {
        // η exists only for samplers with noise to scale (DDPM refuses it), so this folder is DDIM's.
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        Assert.Equal(0, InProcessCli.Generate(Generate(outDir, "--sampler", "ddim")).Code);
        RefusedLeavingAllAsItWas(dir.Path, Generate(outDir, ["--sampler", "ddim", "--grades", "1,3", "--eta", "0.5"]),
            "manifest.csv: written with eta 0, this run asks for 0.5; choose another --out");
        Assert.False(Directory.Exists(Path.Combine(outDir, "3")));
    }

    [Theory]
    [MemberData(nameof(OtherRequests))]
    public void AnotherRequestIntoTheFolderIsRefused(string[] change, string expected)
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        Assert.Equal(0, InProcessCli.Generate(Generate(outDir)).Code);
        // Grade 3 is new, so a run that got past the check would have made its folder.
        RefusedLeavingAllAsItWas(dir.Path, Generate(outDir, ["--grades", "1,3", .. change]), expected);
        Assert.False(Directory.Exists(Path.Combine(outDir, "3")));
    }

    [Fact]
    public void AnotherModelIntoTheFolderIsRefused()
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        Assert.Equal(0, InProcessCli.Generate(Generate(outDir)).Code);
        // The same weights under another SHA-256: its images would be the same names, claimed by a model that did not make them.
        string other = model.WriteVariant("other.onnx", m => m.DocString = "another model");
        string[] args = GenerateWith(other, outDir);
        RefusedLeavingAllAsItWas(dir.Path, args, "manifest.csv: written with a model of sha256 ");
        Refusal.Check(InProcessCli.Generate(args), $"this run's --model {other} has sha256 ");
    }

    [Fact]
    public void AnotherShardsManifestCountsToo()
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        Assert.Equal(0, InProcessCli.Generate(Generate(outDir, "--shard", "0/2")).Code);
        RefusedLeavingAllAsItWas(dir.Path, Generate(outDir, "--shard", "1/2", "--seed", "11"),
            "manifest.shard-0-of-2.csv: written with seed 9, this run asks for 11; choose another --out");
        Assert.Equal(0, InProcessCli.Generate(Generate(outDir, "--shard", "1/2")).Code);
    }

    [Fact]
    public void AManifestGenerateDidNotWriteIsNotReplaced()
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "manifest.csv"), "patient,grade\n17,3\n");
        RefusedLeavingAllAsItWas(dir.Path, Generate(outDir), "manifest.csv: not a KneeOnnx manifest");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    private static InProcessCli.Result Within(Func<InProcessCli.Result> command)
    {
        var run = Task.Run(command);
        Assert.True(run.Wait(TimeSpan.FromMinutes(2)), "generate hung on a named pipe");
        return run.Result;
    }

    [Fact]
    public void AManifestThatIsANamedPipeIsRefusedWithoutOpeningIt()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        Directory.CreateDirectory(outDir);
        Assert.Equal(0, mkfifo(Path.Combine(outDir, "manifest.csv"), 0x1B6));
        Refusal.Check(Within(() => InProcessCli.Generate(Generate(outDir))), "manifest.csv: exists and is a named pipe");
        Assert.Equal([Path.Combine(outDir, "manifest.csv")], Refusal.Tree(outDir));
    }

    [Fact]
    public void EachDifferenceIsNamedInWords()
    {
        var request = new ImageProvenance("m.onnx", "aaaaaaaaaaaaaaaa", "dddddddddddddddd", 64, "ddim", 20, 0, 1.5, 4);
        Dictionary<string, string> Row(string? decoder = "dddddddddddddddd") => new()
        {
            ["model_sha256"] = "aaaaaaaaaaaaaaaa", ["image_size"] = "64", ["sampler"] = "ddim", ["steps"] = "20", ["eta"] = "0", ["guidance"] = "1.5",
            ["seed"] = "4", [Manifest.DecoderColumn] = decoder ?? "",
        };
        Assert.Null(request.DifferenceFrom(Row()));
        Assert.Equal("written with the decoder of sha256 eeeeeeeeeeee, this run's decoder has sha256 dddddddddddd", request.DifferenceFrom(Row("eeeeeeeeeeeeeeee")));
        Assert.Equal("written with a pixel model, this run's --model m.onnx is a latent model (decoder sha256 dddddddddddd)", request.DifferenceFrom(Row(null)));
        Assert.Equal("written with a latent model (decoder sha256 dddddddddddd), this run's --model m.onnx is a pixel model",
            (request with { DecoderSha256 = null }).DifferenceFrom(Row()));
        var row = Row();
        row["guidance"] = "1.50";
        Assert.Null(request.DifferenceFrom(row)); // numbers compare as numbers
        // The provider: checked when the request names one and the row records one.
        row["provider"] = "cuda";
        Assert.Null(request.DifferenceFrom(row));
        Assert.Equal("written on the cuda provider, this run uses cpu (give --provider cuda)", (request with { Provider = "cpu" }).DifferenceFrom(row));
        Assert.Null((request with { Provider = "cuda" }).DifferenceFrom(row));
        row.Remove("provider");
        Assert.Null((request with { Provider = "cpu" }).DifferenceFrom(row));
    }

    [Fact]
    public void QuotedGradeNamesSplitAsOneField()
    {
        Assert.Equal(["1/kl1.png", "1", "doubtful, \"minor\"", "ddim"], CsvFields.Split("1/kl1.png,1,\"doubtful, \"\"minor\"\"\",ddim"));
    }
}
