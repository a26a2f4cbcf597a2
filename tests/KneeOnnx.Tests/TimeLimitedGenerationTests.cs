using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Evaluation;

namespace KneeOnnx.Tests;

/// <summary>
/// --max-minutes on the generating verbs: a run stops between batches (the first batch always runs, later ones are judged
/// by the last one's time) with every image it made whole and listed, and the same command again makes exactly the rest:
/// together the same bytes as one uninterrupted run.
/// </summary>
public class TimeLimitedGenerationTests(TinyOnnxModel model) : IClassFixture<TinyOnnxModel>
{
    private string[] Generate(string outDir, params string[] extra) =>
        ["generate", "--model", model.Path, "--provider", "cpu", "--steps", "4", "--seed", "9", "--grades", "2", "--per-grade", "5", "--batch", "2", "--out", outDir, .. extra];

    private static Dictionary<string, byte[]> Files(string dir) => PngFiles.Under(dir);

    [Fact]
    public void GenerateStopsAfterABatchWhenTheLimitHasPassedAndTheSameCommandMakesTheRest()
    {
        using var whole = new TempDirectory();
        using var parts = new TempDirectory();
        Assert.Equal(0, InProcessCli.Generate(Generate(whole.Path)).Code);

        // A limit already over when the first batch ends: that batch is written, the other three images are not.
        var (code, stdout, err) = InProcessCli.Generate(Generate(parts.Path, "--max-minutes", "0.000001", "--sheet", parts.Combine("sheet.png")));
        Assert.True(code == 0, err);
        Assert.Contains("stopped by --max-minutes: 2 of 5 new images made", stdout);
        Assert.Equal(2, Files(parts.Path).Count);
        Assert.Equal(1 + 2, File.ReadAllLines(parts.Combine("manifest.csv")).Length);
        Assert.False(File.Exists(parts.Combine("sheet.png"))); // a sheet of part of the set would mislead

        (code, stdout, err) = InProcessCli.Generate(Generate(parts.Path, "--max-minutes", "60"));
        Assert.True(code == 0, err);
        Assert.Contains("2 already present, 3 to make", stdout);
        Assert.DoesNotContain("stopped", stdout);
        Assert.Equal(Files(whole.Path), Files(parts.Path));
        Assert.Equal(1 + 5, File.ReadAllLines(parts.Combine("manifest.csv")).Length);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("NaN")]
    public void ANonPositiveLimitIsRefusedBeforeAnythingIsWritten(string minutes)
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        var (code, _, err) = InProcessCli.Generate(Generate(outDir, "--max-minutes", minutes));
        Assert.NotEqual(0, code);
        Assert.Contains($"--max-minutes must be a positive number of minutes, got {minutes}", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void EvaluateStopsItsGenerationWithoutAReportAndContinuesItLater()
    {
        using var dir = new TempDirectory();
        var request = new GenerateRequest(model.Path, PerGrade: 3, Sampler: "ddim", Steps: 2, Batch: 2);
        var (_, wholeFolder) = EvaluationSamples.Generate(request, dir.Combine("whole"), TextWriter.Null)!.Value;

        var log = new StringWriter();
        Assert.Null(EvaluationSamples.Generate(request with { StopBy = DateTime.UtcNow }, dir.Combine("parts"), log));
        Assert.Contains("stopped by --max-minutes: 2 of 15 images made", log.ToString());
        var resumed = EvaluationSamples.Generate(request, dir.Combine("parts"), TextWriter.Null)!.Value;
        Assert.Equal(13, resumed.Generation.GeneratedNow);
        Assert.Equal(Files(wholeFolder), Files(resumed.Folder));

        // Through the verb: a stopped evaluation writes no report and says so; a limit without --model is refused.
        var (code, stdout, err) = InProcessCli.Train("evaluate", "--model", model.Path, "--real", dir.Combine("none"), "--train", dir.Combine("none"),
            "--out", dir.Combine("report"), "--per-grade", "2", "--sampler", "ddim", "--steps", "2", "--max-minutes", "-1");
        Assert.NotEqual(0, code);
        Assert.Contains("--max-minutes must be a positive number of minutes, got -1", err);
        (code, _, err) = InProcessCli.Train("evaluate", "--generated", wholeFolder, "--real", wholeFolder, "--train", wholeFolder, "--out", dir.Combine("report"), "--max-minutes", "5");
        Assert.NotEqual(0, code);
        Assert.Contains("--max-minutes limits how long --model generates; it cannot be used with --generated", err);
        Assert.False(Directory.Exists(dir.Combine("report")));
    }
}
