using KneeOnnx.Cli;
using KneeOnnx.Imaging;
using KneeOnnx.IO;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Runs;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

/// <summary>
/// SIGKILL the CLIs at many moments, rerun, and require the end state of an uninterrupted run: nothing lost,
/// nothing torn, nothing extra.
/// </summary>
public class CrashConsistencyTests(TinyOnnxModel model, ITestOutputHelper log) : IClassFixture<TinyOnnxModel>
{
    private static Dictionary<string, byte[]> Pngs(string dir) => PngFiles.Under(dir);

    [Fact]
    public void GenerateKilledTenTimesEndsExactlyLikeAnUninterruptedRun()
    {
        using var reference = new TempDirectory();
        using var crashed = new TempDirectory();
        string[] Args(string outDir) => ["generate", "--model", model.Path, "--provider", "cpu", "--grades", "0,1,2,3,4", "--per-grade", "6",
            "--batch", "2", "--steps", "3", "--seed", "4", "--out", outDir];

        // The reference runs in another process too, so this also checks determinism across processes.
        var clean = CliProcess.Run("kneeonnx-gen", Args(reference.Path));
        Assert.True(clean.ExitCode == 0, clean.Errors);

        var rng = new Random(20261125);
        int kills = 0;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            // The run prints two start-up lines, one per batch still to make, and a closing line: kill after any of them
            // but the last, from before the model is loaded to just before the closing manifest write.
            int batchesLeft = Enumerable.Range(0, 5).Sum(g =>
            {
                string dir = Path.Combine(crashed.Path, g.ToString());
                int present = Directory.Exists(dir) ? Directory.GetFiles(dir, "*.png").Length : 0;
                return (6 - present + 1) / 2;
            });
            var outcome = CliProcess.Run("kneeonnx-gen", Args(crashed.Path), killAfterLines: rng.Next(0, 2 + batchesLeft + 1));
            if (outcome.Killed) kills++;
        }
        var last = CliProcess.Run("kneeonnx-gen", Args(crashed.Path));
        Assert.True(last.ExitCode == 0, last.Errors);
        log.WriteLine($"{kills} kills; final run: {last.Lines.FirstOrDefault(l => l.Contains("already present"))}");

        var expected = Pngs(reference.Path);
        var actual = Pngs(crashed.Path);
        Assert.Equal(30, expected.Count);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        Assert.Equal(expected, actual);
        Assert.Empty(Directory.GetFiles(crashed.Path, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories));
        foreach (var file in actual.Keys)
            Assert.Equal((32, 32), new GrayImageReader().ReadSize(Path.Combine(crashed.Path, file)));
        var manifestFiles = File.ReadAllLines(Path.Combine(crashed.Path, "manifest.csv")).Skip(1).Select(l => l.Split(',')[0]).Order();
        Assert.Equal(actual.Keys.Select(k => k.Replace('\\', '/')).Order(), manifestFiles);
        Assert.Equal(File.ReadAllText(Path.Combine(reference.Path, "manifest.csv")), File.ReadAllText(Path.Combine(crashed.Path, "manifest.csv")));
        Assert.True(kills >= 8, $"only {kills} of 10 runs were killed before finishing");
    }

    [Fact]
    public void TrainKilledAtRandomStepsResumesToTheUninterruptedState()
    {
        using var data = new TempDirectory();
        SyntheticKnees.WriteDataset(data.Path, perGrade: 2, side: 32);
        using var reference = new TempDirectory();
        using var crashed = new TempDirectory();
        string[] Args(string runDir, bool resume) =>
        [
            "train", "--data", data.Path, "--preset", "tiny", "--steps", "10", "--batch", "2", "--lr", "1e-3", "--warmup", "2",
            "--timesteps", "100", "--checkpoint-every", "1", "--log-every", "1", "--threads", "2", "--seed", "8", "--out", runDir,
            .. resume ? new[] { "--resume" } : [],
        ];

        var clean = CliProcess.Run("kneeonnx-train", Args(reference.Path, false));
        Assert.True(clean.ExitCode == 0, clean.Errors);

        int startup = clean.Lines.TakeWhile(l => !l.StartsWith("step ")).Count();
        var rng = new Random(7);
        int kills = 0;
        string checkpoint = Path.Combine(crashed.Path, Checkpoint.FileName);
        for (int attempt = 0; attempt < 16; attempt++)
        {
            bool resume = File.Exists(checkpoint);
            long done = resume ? Checkpoint.ReadState(checkpoint).Step : 0;
            if (done == 10) break;
            // Start-up prints the lines before the reference's first step (and "resumed"), then one line per step, each
            // printed just before that step's checkpoint is written. Every third run dies during start-up (before the
            // model is built, or while a checkpoint loads); the others after one of the next four step lines (or the closing
            // line, near the end), so each run saves at most three steps and reaching step 10 takes at least three killed runs.
            int header = startup + (resume ? 1 : 0);
            int killAfter = attempt % 3 == 0 ? rng.Next(1, header + 1) : header + rng.Next(1, (int)Math.Min(10 - done + 1, 4) + 1);
            var outcome = CliProcess.Run("kneeonnx-train", Args(crashed.Path, resume), killAfterLines: killAfter);
            if (outcome.Killed) kills++;
            log.WriteLine($"from step {done}: {(outcome.Killed ? "killed" : "not killed")} after {outcome.Lines.Count} lines");
        }
        if (!File.Exists(checkpoint) || Checkpoint.ReadState(checkpoint).Step < 10)
        {
            var last = CliProcess.Run("kneeonnx-train", Args(crashed.Path, File.Exists(checkpoint)));
            Assert.True(last.ExitCode == 0, last.Errors);
        }
        log.WriteLine($"{kills} kills before the run completed");
        Assert.True(kills >= 3, $"only {kills} runs were killed");

        foreach (bool raw in new[] { false, true })
        {
            var (sa, a) = Checkpoint.LoadModel(Path.Combine(reference.Path, Checkpoint.FileName), raw);
            var (sb, b) = Checkpoint.LoadModel(checkpoint, raw);
            using (a)
            using (b)
            {
                Assert.Equal(sa.Step, sb.Step);
                var expected = a.state_dict();
                foreach (var (name, tensor) in b.state_dict())
                    Assert.True(Tensors.Identical(tensor, expected[name]), $"{(raw ? "raw" : "EMA")} {name} differs after kills and resumes");
            }
        }
        Assert.Equal(LossLog.Read(Path.Combine(reference.Path, LossLog.FileName)).Select(r => r.Loss),
                     LossLog.Read(Path.Combine(crashed.Path, LossLog.FileName)).Select(r => r.Loss));
        Assert.Empty(Directory.GetFiles(crashed.Path, "*" + AtomicFile.TempSuffix));
    }
}
