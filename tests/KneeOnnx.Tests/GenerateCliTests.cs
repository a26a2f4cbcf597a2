using KneeOnnx.Cli;
using KneeOnnx.Imaging;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

public class GenerateCliTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private static InProcessCli.Result Run(params string[] args) => InProcessCli.Generate(args);

    private string[] Generate(string outDir, params string[] extra) =>
        ["generate", "--model", model.Path, "--provider", "cpu", "--steps", "4", "--seed", "9", "--out", outDir, .. extra];

    private static Dictionary<string, byte[]> Files(string dir) => PngFiles.Under(dir);

    [Fact]
    public void WritesTheImageFolderLayoutAndAManifest()
    {
        using var dir = new TempDirectory();
        var (code, stdout, err) = Run(Generate(dir.Path, "--grades", "0,4", "--per-grade", "3", "--batch", "2"));
        Assert.True(code == 0, err);
        Assert.Contains("provider: cpu", stdout);
        Assert.Equal(3, Directory.GetFiles(dir.Combine("0"), "*.png").Length);
        Assert.Equal(3, Directory.GetFiles(dir.Combine("4"), "*.png").Length);
        Assert.False(Directory.Exists(dir.Combine("1")));
        var lines = File.ReadAllLines(dir.Combine("manifest.csv"));
        Assert.Equal(1 + 6, lines.Length);
        Assert.StartsWith("file,grade,grade_name,index,seed", lines[0]);
        Assert.All(lines.Skip(1), l => Assert.Contains(",ddpm,4,0,1,32,", l));
        var first = new GrayImageReader().ReadSize(Directory.GetFiles(dir.Combine("4"))[0]);
        Assert.Equal((32, 32), first);
    }

    [Fact]
    public void SheetShowsTheWrittenImagesOneRowPerGrade()
    {
        using var dir = new TempDirectory();
        string sheet = dir.Combine("sheet.png");
        var (code, stdout, err) = Run(Generate(dir.Combine("out"), "--grades", "1,3", "--per-grade", "3", "--sheet", sheet, "--sheet-columns", "2"));
        Assert.True(code == 0, err);
        Assert.Contains("contact sheet", stdout);
        // 2 columns × 2 rows of 96-pixel tiles (the model is 32², tiles are at least 96) with gutters.
        var (w, h) = new GrayImageReader().ReadSize(sheet);
        Assert.True(w > 2 * 96 && w < 3 * 96, $"width {w}");
        Assert.True(h > 2 * 96 && h < 3 * 96, $"height {h}");
        using var image = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.L8>(sheet);
        Assert.Equal(16, image[0, 0].PackedValue); // gutter
        var tileValues = Enumerable.Range(0, 96).Select(i => image[KneeOnnx.Output.ContactSheet.Gutter + i, KneeOnnx.Output.ContactSheet.Gutter + 48].PackedValue).Distinct().Count();
        Assert.True(tileValues > 5, "the first tile holds an image, not background");
    }

    [Fact]
    public void SameSeedGivesByteIdenticalFilesWhateverTheBatch()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        Assert.Equal(0, Run(Generate(a.Path, "--grades", "1,3", "--per-grade", "3", "--batch", "3")).Code);
        Assert.Equal(0, Run(Generate(b.Path, "--grades", "1,3", "--per-grade", "3", "--batch", "1")).Code);
        var fa = Files(a.Path);
        Assert.Equal(6, fa.Count);
        Assert.Equal(fa, Files(b.Path));
        Assert.Equal(File.ReadAllText(a.Combine("manifest.csv")), File.ReadAllText(b.Combine("manifest.csv")));
    }

    [Fact]
    public void CountsPerGradeMakeExactlyThoseImagesEachTheSameFileAsInAnEvenRequest()
    {
        // Image i of a grade starts from noise of (seed, grade, i) alone: asking other grades for more or fewer images
        // must not move it, or topping up one grade would silently change the images of another.
        using var uneven = new TempDirectory();
        using var even = new TempDirectory();
        var (code, stdout, err) = Run(Generate(uneven.Path, "--grades", "0,2,4", "--per-grade", "2,0,3", "--batch", "4"));
        Assert.True(code == 0, err);
        Assert.Equal(0, Run(Generate(even.Path, "--grades", "0,2,4", "--per-grade", "3", "--batch", "4")).Code);
        var made = Files(uneven.Path);
        Assert.Equal(2, made.Keys.Count(k => k.StartsWith("0" + Path.DirectorySeparatorChar)));
        Assert.Equal(3, made.Keys.Count(k => k.StartsWith("4" + Path.DirectorySeparatorChar)));
        Assert.Equal(5, made.Count);
        Assert.False(Directory.Exists(uneven.Combine("2")), "a grade asked for 0 images gets no folder");
        var reference = Files(even.Path);
        Assert.All(made, f => Assert.Equal(reference[f.Key], f.Value));
        Assert.Equal(1 + 5, File.ReadAllLines(uneven.Combine("manifest.csv")).Length);
    }

    [Fact]
    public void FillToTopsEachGradeOfTheRealSetUpToTheTotal()
    {
        using var dir = new TempDirectory();
        int[] real = [5, 2, 0, 7, 1];
        for (int g = 0; g < 5; g++)
        {
            Directory.CreateDirectory(dir.Combine("real", g.ToString()));
            for (int i = 0; i < real[g]; i++) File.WriteAllBytes(dir.Combine("real", g.ToString(), $"{9000000 + i}L.PNG"), []);
        }
        File.WriteAllText(dir.Combine("real", "1", "notes.txt"), "not an image"); // the training loader ignores it, so must the count
        var (code, stdout, err) = Run(Generate(dir.Combine("out"), "--fill-to", "4", "--real", dir.Combine("real")));
        Assert.True(code == 0, err);
        Assert.Contains("holds 5 / 2 / 0 / 7 / 1", stdout);
        int[] made = Enumerable.Range(0, 5).Select(g => Directory.Exists(dir.Combine("out", g.ToString())) ? Directory.GetFiles(dir.Combine("out", g.ToString())).Length : 0).ToArray();
        Assert.Equal([0, 2, 4, 0, 3], made);

        var (again, stdoutAgain, _) = Run(Generate(dir.Combine("out2"), "--fill-to", "2", "--grades", "0,3", "--real", dir.Combine("real")));
        Assert.Equal(0, again);
        Assert.Contains("nothing to make", stdoutAgain);
        Assert.False(Directory.Exists(dir.Combine("out2")));
    }

    [Theory]
    [InlineData(5, new[] { 0, 4, 5, 6 }, 1, new[] { 5, 1, 0, 0 })]
    [InlineData(5, new[] { 0, 4, 5, 6 }, 2, new[] { 3, 1, 0, 0 })] // 5 → 3 per side: rounded up, never short
    [InlineData(2286, new[] { 2286, 1046, 1516, 757, 173 }, 2, new[] { 0, 620, 385, 765, 1057 })] // the train split balanced, L and R
    public void FillToSplitsWhatIsMissingOverTheSides(int total, int[] realCounts, int sides, int[] expected) =>
        Assert.Equal(expected, KneeOnnx.Output.GradeCounts.FillTo(total, realCounts, sides));

    [Fact]
    public void SleepingThreadsMakeTheSameBytes()
    {
        // --no-spin changes how ONNX Runtime's idle threads wait, never what they compute.
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        Assert.Equal(0, Run(Generate(a.Path, "--grades", "2", "--per-grade", "2")).Code);
        var (code, _, err) = Run(Generate(b.Path, "--grades", "2", "--per-grade", "2", "--no-spin"));
        Assert.True(code == 0, err);
        Assert.Equal(Files(a.Path), Files(b.Path));
    }

    [Fact]
    public void ResumeAfterAnInterruptedRunMakesExactlyTheRequestedFiles()
    {
        using var full = new TempDirectory();
        using var resumed = new TempDirectory();
        Assert.Equal(0, Run(Generate(full.Path, "--grades", "2", "--per-grade", "5")).Code);
        // An interrupted run: two finished files, one torn temporary, no manifest.
        Assert.Equal(0, Run(Generate(resumed.Path, "--grades", "2", "--per-grade", "2")).Code);
        File.Delete(resumed.Combine("manifest.csv"));
        File.WriteAllBytes(resumed.Combine("2", ".kl2_ddpm4_s9_000002.png.123.abc.partial"), [1, 2, 3]);
        var (code, stdout, _) = Run(Generate(resumed.Path, "--grades", "2", "--per-grade", "5"));
        Assert.Equal(0, code);
        Assert.Contains("2 already present, 3 to make", stdout);
        Assert.Equal(Files(full.Path), Files(resumed.Path));
        Assert.Empty(Directory.GetFiles(resumed.Path, "*.partial", SearchOption.AllDirectories));
        Assert.Equal(6, File.ReadAllLines(resumed.Combine("manifest.csv")).Length);
    }

    [Fact]
    public void ShardsAreDisjointAndTogetherEqualTheFullRun()
    {
        using var full = new TempDirectory();
        using var sharded = new TempDirectory();
        Assert.Equal(0, Run(Generate(full.Path, "--grades", "0,2", "--per-grade", "4")).Code);
        var seen = new HashSet<string>();
        for (int k = 0; k < 3; k++)
        {
            using var part = new TempDirectory();
            Assert.Equal(0, Run(Generate(part.Path, "--grades", "0,2", "--per-grade", "4", "--shard", $"{k}/3")).Code);
            Assert.True(File.Exists(part.Combine($"manifest.shard-{k}-of-3.csv")));
            foreach (var (name, bytes) in Files(part.Path))
            {
                Assert.True(seen.Add(name), $"{name} made by two shards");
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(sharded.Path, name))!);
                File.WriteAllBytes(Path.Combine(sharded.Path, name), bytes);
            }
        }
        Assert.Equal(Files(full.Path), Files(sharded.Path));
    }

    [Fact]
    public void ShardComesFromSlurmOrKubernetesVariables()
    {
        var slurm = new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "3", ["SLURM_ARRAY_TASK_COUNT"] = "4", ["SLURM_ARRAY_TASK_MIN"] = "1" };
        Assert.Equal(new KneeOnnx.Output.Shard(2, 4), KneeOnnx.Output.Shard.Resolve(null, null, k => slurm.GetValueOrDefault(k)));
        var k8s = new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "5" };
        Assert.Equal(new KneeOnnx.Output.Shard(5, 8), KneeOnnx.Output.Shard.Resolve(null, 8, k => k8s.GetValueOrDefault(k)));
        Assert.Equal(new KneeOnnx.Output.Shard(1, 2), KneeOnnx.Output.Shard.Resolve("1/2", null, k => slurm.GetValueOrDefault(k)));
        Assert.True(KneeOnnx.Output.Shard.Resolve(null, null, _ => null).IsWhole);
    }

    [Fact]
    public void ResizesToTheRequestedSize()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, Run(Generate(dir.Path, "--grades", "3", "--per-grade", "1", "--size", "224")).Code);
        Assert.Equal((224, 224), new GrayImageReader().ReadSize(Directory.GetFiles(dir.Combine("3"))[0]));
    }

    [Fact]
    public void GuidanceScaleHasItsDefiningEffect()
    {
        // ε_w = ε_null + w·(ε_grade − ε_null): w = 0 ignores the grade, so with shared starting noise every grade gives
        // the same image; w = 1 is plain conditional sampling; w = 2 differs from both.
        using var knee = KneeModel.Open(model.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var generator = new KneeOnnx.Generation.ImageGenerator(knee);
        float[] Make(int grade, double w) => generator.Generate(grade, 5, [0], new KneeOnnx.Generation.SamplerSettings { Sampler = "ddim", Steps = 6, Guidance = w }, shareNoiseAcrossGrades: true);
        Assert.Equal(Make(0, 0), Make(4, 0));
        Assert.NotEqual(Make(0, 1), Make(4, 1));
        double Distance(float[] a, float[] b) => a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
        Assert.True(Distance(Make(4, 2), Make(4, 1)) > 1e-3);
        Assert.True(Distance(Make(4, 2), Make(4, 0)) > 1e-3);
    }

    [Fact]
    public void EverySamplerAndGuidanceRunFromTheCli()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, Run(Generate(dir.Combine("a"), "--grades", "1", "--per-grade", "1", "--guidance", "2", "--sampler", "dpm++2m")).Code);
        Assert.Equal(0, Run(Generate(dir.Combine("b"), "--grades", "1", "--per-grade", "1", "--sampler", "ddim", "--clip-x0", "off")).Code);
        Assert.Equal(0, Run(Generate(dir.Combine("c"), "--grades", "1", "--per-grade", "1")).Code);
        // Three requests, three distinct file names (settings are part of the name). Each has its own folder: one
        // manifest holds one request (GenerateProvenanceTests refuses a second request into the same folder).
        var names = new[] { "a", "b", "c" }.SelectMany(d => Directory.GetFiles(dir.Combine(d, "1"))).Select(Path.GetFileName).Distinct().ToArray();
        Assert.Equal(3, names.Length);
    }

    [Fact]
    public void GridWritesOneRowPerGrade()
    {
        using var dir = new TempDirectory();
        string sheet = dir.Combine("sheet.png");
        var (code, _, err) = Run("grid", "--model", model.Path, "--provider", "cpu", "--steps", "3", "--per-grade", "3", "--tile", "40", "--progression", "--out", sheet);
        Assert.True(code == 0, err);
        // 5 rows and 3 columns of 40-pixel tiles with 4-pixel gutters.
        Assert.Equal((3 * 40 + 4 * 4, 5 * 40 + 6 * 4), new GrayImageReader().ReadSize(sheet));
    }

    [Fact]
    public void InfoReportsMetadataAndProvider()
    {
        var (code, stdout, _) = Run("info", "--model", model.Path);
        Assert.Equal(0, code);
        Assert.Contains("CPUExecutionProvider", stdout);
        Assert.Contains("provider: ", stdout);
        Assert.Contains("kneeonnx.image_size = 32", stdout);
    }

    [Fact]
    public void CudaRequestFallsBackOnAutoAndFailsLoudlyWhenForced()
    {
        var (options, provider, line) = ProviderChoice.Create(new RuntimeOptions { Provider = ProviderRequest.Auto });
        options.Dispose();
        if (provider == "cpu")
        {
            Assert.StartsWith("provider: cpu (auto: CUDA unavailable: ", line);
            var e = Assert.Throws<InvalidOperationException>(() => ProviderChoice.Create(new RuntimeOptions { Provider = ProviderRequest.Cuda }));
            Assert.Contains("--provider cuda", e.Message);
            var (code, _, err) = Run("generate", "--model", model.Path, "--provider", "cuda", "--per-grade", "1", "--out", Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid()));
            Assert.Equal(KneeOnnxCli.BadInputExitCode, code);
            Assert.Single(err.Trim().Split('\n'));
        }
        else
        {
            // On a machine where CUDA works, forcing it must work too.
            Assert.Equal("cuda", provider);
            ProviderChoice.Create(new RuntimeOptions { Provider = ProviderRequest.Cuda }).Options.Dispose();
        }
    }
}
