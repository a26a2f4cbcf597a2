using KneeOnnx.Cli;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>Each bad input: a one-line error naming it, a non-zero exit, and nothing written or overwritten.</summary>
public class GenerateBadInputTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private static (int Code, string Err) Run(params string[] args)
    {
        var (code, _, err) = InProcessCli.Generate(args);
        return (code, err);
    }

    private static void AssertRefused((int Code, string Err) result, string expected, string outDir)
    {
        Assert.Equal(KneeOnnxCli.BadInputExitCode, result.Code);
        Assert.Contains(expected, result.Err);
        Assert.Single(result.Err.Trim().Split('\n'));
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), "something was written");
    }

    public static TheoryData<string[], string> BadOptions() => new()
    {
        { ["--grades", "7"], "--grades '7'" },
        { ["--grades", "-1"], "--grades '-1'" },
        { ["--per-grade", "0"], "--per-grade must be at least 1" },
        { ["--per-grade", "-3"], "--per-grade must be at least 1" },
        { ["--per-grade", "x"], "--per-grade 'x' is not a whole number" },
        { ["--per-grade", "2,-1,0,0,0"], "each count must be at least 0" },
        { ["--per-grade", "0,0,0,0,0"], "one at least 1" },
        { ["--per-grade", "1,2"], "--per-grade lists 2 counts for 5 grades" },
        { ["--grades", "0,4", "--per-grade", "1,2,3"], "--per-grade lists 3 counts for 2 grades (0,4)" },
        { ["--fill-to", "10"], "--fill-to needs --real" },
        { ["--fill-to", "0", "--real", "/"], "--fill-to must be at least 1" },
        { ["--fill-to", "10", "--per-grade", "3", "--real", "/"], "--fill-to and --per-grade" },
        { ["--real", "/"], "--real is only read by --fill-to" },
        { ["--fill-to", "10", "--real", "/kneeonnx-absent-folder"], "/kneeonnx-absent-folder: --real folder not found" },
        { ["--steps", "1001"], "--steps must be in 1..1000" },
        { ["--steps", "0"], "--steps must be in 1..1000" },
        { ["--batch", "0"], "--batch must be at least 1" },
        { ["--shard", "3/2"], "--shard '3/2'" },
        { ["--shard", "x"], "--shard 'x'" },
        { ["--sampler", "euler"], "--sampler 'euler'" },
        { ["--provider", "tpu"], "--provider 'tpu'" },
        { ["--size", "0"], "--size must be in" },
        { ["--eta", "2"], "--eta must be in" },
        { ["--guidance", "-1"], "--guidance must be in" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void OutOfRangeOptionsAreRefused(string[] option, string expected)
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        string[] provider = option[0] == "--provider" ? [] : ["--provider", "cpu"];
        AssertRefused(Run(["generate", "--model", model.Path, .. provider, "--out", outDir, .. option]), expected, outDir);
    }

    [Fact]
    public void MissingEmptyAndCorruptModelsAreRefused()
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        AssertRefused(Run("generate", "--model", dir.Combine("absent.onnx"), "--out", outDir), "absent.onnx: model file not found", outDir);
        File.WriteAllBytes(dir.Combine("empty.onnx"), []);
        AssertRefused(Run("generate", "--model", dir.Combine("empty.onnx"), "--out", outDir), "empty.onnx: model file is empty", outDir);
        File.WriteAllBytes(dir.Combine("random.onnx"), Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray());
        AssertRefused(Run("generate", "--model", dir.Combine("random.onnx"), "--out", outDir), "random.onnx: not a loadable ONNX model", outDir);
        var bytes = File.ReadAllBytes(model.Path);
        File.WriteAllBytes(dir.Combine("truncated.onnx"), bytes[..(bytes.Length / 3)]);
        AssertRefused(Run("generate", "--model", dir.Combine("truncated.onnx"), "--out", outDir), "truncated.onnx: not a loadable ONNX model", outDir);
    }

    [Fact]
    public void FillToRefusesARealSetWithoutAGradeFolderAndAnOutputInsideIt()
    {
        using var dir = new TempDirectory();
        foreach (int g in new[] { 0, 1, 2, 4 }) Directory.CreateDirectory(dir.Combine("real", g.ToString()));
        string outDir = dir.Combine("out");
        AssertRefused(Run("generate", "--model", model.Path, "--provider", "cpu", "--fill-to", "3", "--real", dir.Combine("real"), "--out", outDir),
            $"{dir.Combine("real", "3")}: --real has no folder for grade 3", outDir);
        // Synthetic images written into the real set would be read as real by whatever trains on it next.
        Directory.CreateDirectory(dir.Combine("real", "3"));
        string inside = dir.Combine("real", "synthetic");
        AssertRefused(Run("generate", "--model", model.Path, "--provider", "cpu", "--fill-to", "3", "--real", dir.Combine("real"), "--out", inside),
            "is inside the command's input --real", inside);
    }

    [Fact]
    public void ModelWithoutKneeOnnxMetadataIsRefused()
    {
        using var dir = new TempDirectory();
        string path = model.WriteVariant("plain.onnx", m => m.MetadataProps.Clear());
        AssertRefused(Run("generate", "--model", path, "--out", dir.Combine("o")), "not a KneeOnnx model (metadata 'kneeonnx.format_version' missing)", dir.Combine("o"));
    }

    [Fact]
    public void ModelWithWrongSignatureIsRefused()
    {
        using var dir = new TempDirectory();
        string path = model.WriteVariant("renamed.onnx", m =>
        {
            m.Graph.Input.Single(i => i.Name == ModelContract.TimestepInput).Name = "t";
            foreach (var node in m.Graph.Node)
                for (int i = 0; i < node.Input.Count; i++)
                    if (node.Input[i] == ModelContract.TimestepInput) node.Input[i] = "t";
        });
        AssertRefused(Run("generate", "--model", path, "--out", dir.Combine("o")), "wrong signature", dir.Combine("o"));
    }

    public static TheoryData<string, string, string> HostileMetadata() => new()
    {
        { ModelContract.Keys.Grades, "[\"../../etc\",\"b\",\"c\",\"d\",\"e\"]", "is not allowed" },
        { ModelContract.Keys.Grades, "[\"a/b\",\"b\",\"c\",\"d\",\"e\"]", "is not allowed" },
        { ModelContract.Keys.Grades, "[\"a\\u0000\",\"b\",\"c\",\"d\",\"e\"]", "is not allowed" },
        { ModelContract.Keys.Grades, "[\"" + new string('x', 10_000) + "\",\"b\",\"c\",\"d\",\"e\"]", "is not allowed" },
        { ModelContract.Keys.Grades, "not json", "not a JSON list" },
        { ModelContract.Keys.ImageSize, "0", "kneeonnx.image_size" },
        { ModelContract.Keys.ImageSize, "1000000", "kneeonnx.image_size" },
        { ModelContract.Keys.ImageSize, "64", "contradicts metadata image size 64" },
        { ModelContract.Keys.NumTrainTimesteps, "0", "kneeonnx.num_train_timesteps" },
        { ModelContract.Keys.BetaEnd, "7", "schedule is invalid" },
        { ModelContract.Keys.PredictionType, "sample", "prediction type 'sample' is not supported" },
        { ModelContract.Keys.ZeroTerminalSnr, "true", "ε-prediction cannot sample a zero-terminal-SNR schedule" },
        { ModelContract.Keys.ZeroTerminalSnr, "yes", "is not true or false" },
        { ModelContract.Keys.NullGrade, "2", "null grade 2 contradicts" },
        { ModelContract.Keys.FormatVersion, "99", "format 99" },
    };

    [Theory]
    [MemberData(nameof(HostileMetadata))]
    public void HostileOrContradictoryMetadataIsRefused(string key, string value, string expected)
    {
        using var dir = new TempDirectory();
        string path = model.WriteVariant(Guid.NewGuid().ToString("N") + ".onnx", m => TinyOnnxModel.SetMeta(m, key, value));
        AssertRefused(Run("generate", "--model", path, "--out", dir.Combine("o")), expected, dir.Combine("o"));
    }

    [Theory]
    [InlineData("--per-grade", "0", "--per-grade must be in 1..64")]
    [InlineData("--per-grade", "65", "--per-grade must be in 1..64")]
    [InlineData("--tile", "3", "--tile must be in 8..1024")]
    [InlineData("--batch", "0", "--batch must be at least 1")]
    [InlineData("--steps", "5000", "--steps must be in 1..1000")]
    public void OutOfRangeGridOptionsAreRefused(string option, string value, string expected)
    {
        using var dir = new TempDirectory();
        var (code, err) = Run("grid", "--model", model.Path, "--provider", "cpu", "--out", dir.Combine("sheet.png"), option, value);
        Assert.Equal(KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains(expected, err);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ReadOnlyOutputLocationIsRefused()
    {
        // /proc is read-only even for root, which the CI machine runs as.
        var (code, err) = Run("generate", "--model", model.Path, "--provider", "cpu", "--per-grade", "1", "--steps", "1", "--out", "/proc/kneeonnx-out");
        Assert.Equal(KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("/proc/kneeonnx-out", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void OutputThatIsAFileIsRefusedAndKept()
    {
        using var dir = new TempDirectory();
        string file = dir.Combine("taken");
        File.WriteAllText(file, "keep me");
        var (code, err) = Run("generate", "--model", model.Path, "--out", file);
        Assert.Equal(KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("--out is a file", err);
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Fact]
    public void GuidanceOnAModelWithoutNullGradeIsRefused()
    {
        using var dir = new TempDirectory();
        string path = model.WriteVariant("nonull.onnx", m => TinyOnnxModel.SetMeta(m, ModelContract.Keys.NullGrade, "-1"));
        AssertRefused(Run("generate", "--model", path, "--provider", "cpu", "--guidance", "3", "--out", dir.Combine("o")), "needs a model trained with a null grade", dir.Combine("o"));
    }
}
