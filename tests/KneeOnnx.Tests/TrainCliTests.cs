using KneeOnnx.Imaging;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Cli;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests;

public class TrainCliTests
{
    private static InProcessCli.Result Run(params string[] args) => InProcessCli.Train(args);

    [Theory]
    [InlineData("train")]
    [InlineData("sample")]
    public void EveryVerbHasHelp(string verb)
    {
        var (code, stdout, _) = Run(verb, "--help");
        Assert.Equal(0, code);
        Assert.Contains("--out", stdout);
    }

    [Theory]
    [InlineData("--preset", "huge", "--preset 'huge'")]
    [InlineData("--cond", "sideways", "--cond 'sideways'")]
    [InlineData("--batch", "0", "--batch")]
    [InlineData("--steps", "0", "--steps")]
    [InlineData("--balance", "odd", "--balance 'odd'")]
    [InlineData("--device", "tpu", "--device 'tpu'")]
    [InlineData("--final-lr-fraction", "7", "--final-lr-fraction must be in [0, 1]")]
    [InlineData("--weight-decay", "-0.1", "--weight-decay must be in [0, 1)")]
    [InlineData("--grad-clip", "0", "--grad-clip must be > 0")]
    [InlineData("--beta-end", "2", "--beta-end")]
    [InlineData("--prediction", "x0", "--prediction 'x0' is not one of epsilon, v_prediction")]
    public void BadTrainOptionsGiveOneLineErrors(string option, string value, string expected)
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, 1, 16);
        string[] preset = option == "--preset" ? [] : ["--preset", "tiny"];
        var (code, _, err) = Run(["train", "--data", dir.Path, "--out", dir.Combine("run"), .. preset, option, value]);
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(dir.Combine("run", "checkpoint.ckpt")));
    }

    [Theory]
    [InlineData("--steps", "abc", "--steps: the value is not valid")]
    [InlineData("--bogus", "1", "unknown option 'bogus'")]
    public void MalformedOptionsGiveOneLineErrors(string option, string value, string expected)
    {
        var (code, _, err) = Run("train", "--out", "x", option, value);
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void StopAtStepEndsOnThatStepWithACheckpointAndTheScheduleOfTheWholeRun()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Combine("data"), 1, 16);
        string run = dir.Combine("run");
        string[] command = ["train", "--data", dir.Combine("data"), "--out", run, "--preset", "tiny", "--steps", "5", "--batch", "2", "--warmup", "1", "--threads", "2"];
        var first = Run([.. command, "--stop-at-step", "2"]);
        Assert.True(first.Code == 0, first.Err);
        var state = Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName));
        Assert.Equal(2, state.Step);
        Assert.Equal(5, state.Train.Steps); // the cosine schedule still spans the whole run
        var again = Run([.. command, "--resume", "--stop-at-step", "2"]); // already there: stops at once
        Assert.True(again.Code == 0, again.Err);
        Assert.Equal(2, Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName)).Step);
        var rest = Run([.. command, "--resume"]);
        Assert.True(rest.Code == 0, rest.Err);
        Assert.Equal(5, Checkpoint.ReadState(Path.Combine(run, Checkpoint.FileName)).Step);
        var switched = Run([.. command, "--resume", "--precision", "fp32"]); // finished already, but the option is not refused as a changed setting
        Assert.True(switched.Code == 0, switched.Err);
        var unknown = Run([.. command, "--resume", "--precision", "fp16"]);
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, unknown.Code);
        Assert.Contains("fp16", unknown.Err);
        Assert.Contains("is not one of fp32, bf16", unknown.Err);
        var bad = Run([.. command, "--resume", "--stop-at-step", "0"]);
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, bad.Code);
        Assert.Contains("--stop-at-step must be at least 1", bad.Err);
    }

    [Fact]
    public void MissingDataFolderIsNamed()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("train", "--data", dir.Combine("absent"), "--out", dir.Combine("run"), "--preset", "tiny");
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains(dir.Combine("absent"), err);
    }

    [Fact]
    public void SampleFromMissingCheckpointIsAnError()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("sample", "--checkpoint", dir.Combine("none"), "--grades", "1", "--out", dir.Combine("o"));
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains(dir.Combine("none"), err);
    }

    [Fact]
    public void TrainThenSampleWritesDeterministicPngsPerGrade()
    {
        using var dir = new TempDirectory();
        SyntheticKnees.WriteDataset(dir.Path, 2, 32);
        string run = dir.Combine("run");
        var train = Run("train", "--data", dir.Path, "--out", run, "--preset", "tiny", "--steps", "3", "--batch", "2", "--timesteps", "20", "--threads", "2");
        Assert.True(train.Code == 0, train.Err);
        foreach (var f in new[] { "checkpoint.ckpt", "config.json", "loss.csv", "loss.png" })
            Assert.True(File.Exists(Path.Combine(run, f)), $"{f} missing from the run folder");

        var (code, _, err) = Run("sample", "--checkpoint", run, "--grades", "0,4", "--per-grade", "3", "--batch", "2", "--seed", "5", "--out", dir.Combine("a"));
        Assert.True(code == 0, err);
        Run("sample", "--checkpoint", run, "--grades", "4", "--per-grade", "3", "--batch", "3", "--seed", "5", "--out", dir.Combine("b"));
        foreach (var grade in new[] { "0", "4" })
            Assert.Equal(3, Directory.GetFiles(dir.Combine("a", grade), "*.png").Length);
        // The same seed gives the same bytes, whatever the batch size.
        foreach (var file in Directory.GetFiles(dir.Combine("a", "4")))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(dir.Combine("b", "4", Path.GetFileName(file))));
        Assert.Equal((32, 32), new GrayImageReader().ReadSize(Directory.GetFiles(dir.Combine("a", "0"))[0]));
    }

    [Theory]
    [InlineData("sample", "--per-grade", "0", "--per-grade must be at least 1")]
    [InlineData("sample", "--batch", "0", "--batch must be at least 1")]
    [InlineData("export", "--tolerance", "0", "--tolerance must be positive")]
    public void BadSampleAndExportOptionsAreRefused(string verb, string option, string value, string expected)
    {
        using var dir = new TempDirectory();
        string[] required = verb == "sample" ? ["--grades", "1", "--out", dir.Combine("o")] : ["--out", dir.Combine("m.onnx")];
        var (code, _, err) = Run([verb, "--checkpoint", dir.Path, .. required, option, value]);
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains(expected, err);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void SampleRejectsBadGrades()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("sample", "--checkpoint", dir.Path, "--grades", "7", "--out", dir.Combine("o"));
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains("--grades '7'", err);
    }
}

/// <summary>Every training setting can be given as an option (issue: several were settable only through --config).</summary>
public class TrainOptionCoverageTests
{
    [Fact]
    public void EveryTrainConfigFieldHasAnOptionThatReachesIt()
    {
        string[] args =
        [
            "--data", "d", "--out", "o", "--preset", "tiny", "--cond", "concat", "--steps", "7", "--batch", "3", "--micro-batch", "2", "--lr", "0.003",
            "--warmup", "4", "--final-lr-fraction", "0.5", "--weight-decay", "0.01", "--grad-clip", "2", "--ema", "0.9",
            "--label-dropout", "0.2", "--balance", "none", "--no-flip", "--min-snr-gamma", "5", "--beta-schedule", "cosine",
            "--timesteps", "100", "--beta-start", "0.001", "--beta-end", "0.03", "--checkpoint-every", "9", "--seed", "42",
            "--skip-unreadable", "--init-from", "m.onnx", "--image-size", "48", "--sides", "--side-lr-factor", "3",
            "--precision", "fp32", "--autoencoder", "ae", "--prediction", "v_prediction", "--zero-terminal-snr",
            "--distill-guidance", "2", "--teacher", "t.onnx", "--up-blocks", "1",
        ];
        var parsed = new CommandLine.Parser(s => s.HelpWriter = null).ParseArguments<TrainOptions>(args);
        var options = Assert.IsType<CommandLine.Parsed<TrainOptions>>(parsed).Value;
        var given = options.ToConfig();
        var defaults = new TrainConfig { Data = "", Preset = KneeOnnx.Training.Model.Presets.Small };
        // Derived, not chosen: the SHA-256 of --init-from is read from the file when the run starts.
        string[] derived = [nameof(TrainConfig.InitFromSha256), nameof(TrainConfig.InitFromSteps), nameof(TrainConfig.DecoderSha256), nameof(TrainConfig.EncoderSha256),
            nameof(TrainConfig.TeacherSha256)];
        foreach (var property in typeof(TrainConfig).GetProperties().Where(p => !derived.Contains(p.Name)))
            Assert.False(Equals(property.GetValue(given), property.GetValue(defaults)), $"no option set TrainConfig.{property.Name}");
    }
}
