using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Cli;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

public class ExportCliTests
{
    private static InProcessCli.Result Run(params string[] args) => InProcessCli.Train(args);

    [Fact]
    public void ExportWritesASelfDescribingModelAndCard()
    {
        using var dir = new TempDirectory();
        TinyRuns.Train(dir.Combine("run"), steps: 2);
        string onnx = dir.Combine("out", "tiny.onnx");
        var (code, stdout, err) = Run("export", "--checkpoint", dir.Combine("run"), "--out", onnx);
        Assert.True(code == 0, err);
        Assert.Contains("self-check", stdout);
        Assert.True(File.Exists(Path.ChangeExtension(onnx, ".md")));

        using var session = new InferenceSession(onnx);
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("32", meta[ModelContract.Keys.ImageSize]);
        Assert.Equal("1000", meta[ModelContract.Keys.NumTrainTimesteps]);
        Assert.Equal("linear", meta[ModelContract.Keys.BetaSchedule]);
        Assert.Equal(1e-4, double.Parse(meta[ModelContract.Keys.BetaStart], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("epsilon", meta[ModelContract.Keys.PredictionType]);
        Assert.Equal("add", meta[ModelContract.Keys.Conditioning]);
        Assert.Equal("5", meta[ModelContract.Keys.NullGrade]);
        Assert.Equal("2", meta[ModelContract.Keys.TrainSteps]);
        Assert.Contains("KL-4 Severe", meta[ModelContract.Keys.Grades]);
        Assert.Equal("memory", meta[ModelContract.Keys.DatasetSha256]);
        Assert.Equal([ModelContract.SampleInput, ModelContract.TimestepInput, ModelContract.GradeInput], session.InputMetadata.Keys.ToArray());
        Assert.Equal(-1, session.InputMetadata[ModelContract.SampleInput].Dimensions[0]);
        Assert.Equal([ModelContract.NoiseOutput], session.OutputMetadata.Keys.ToArray());

        // The batch axis is dynamic: a batch of 5 runs and keeps its shape.
        var sample = new float[5 * 32 * 32];
        using var s = OrtValue.CreateTensorValueFromMemory(sample, [5, 1, 32, 32]);
        using var t = OrtValue.CreateTensorValueFromMemory(new long[] { 0, 1, 2, 3, 999 }, [5]);
        using var g = OrtValue.CreateTensorValueFromMemory(new long[] { 0, 1, 2, 3, 5 }, [5]);
        using var outputs = session.Run(new RunOptions(), [ModelContract.SampleInput, ModelContract.TimestepInput, ModelContract.GradeInput], [s, t, g], [ModelContract.NoiseOutput]);
        Assert.Equal([5L, 1, 32, 32], outputs[0].GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void UnconditionalModelHasNoGradeInput()
    {
        using var dir = new TempDirectory();
        TinyRuns.Train(dir.Combine("run"), conditioning: Conditioning.None, steps: 1);
        string onnx = dir.Combine("u.onnx");
        Assert.Equal(0, Run("export", "--checkpoint", dir.Combine("run"), "--out", onnx).Code);
        using var session = new InferenceSession(onnx);
        Assert.Equal([ModelContract.SampleInput, ModelContract.TimestepInput], session.InputMetadata.Keys.ToArray());
        Assert.Equal("-1", session.ModelMetadata.CustomMetadataMap[ModelContract.Keys.NullGrade]);
    }

    [Fact]
    public void MissingCheckpointIsAOneLineErrorAndWritesNothing()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = Run("export", "--checkpoint", dir.Combine("nothing.ckpt"), "--out", dir.Combine("m.onnx"));
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains(dir.Combine("nothing.ckpt"), err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void CheckpointOfAnotherPresetIsRefused()
    {
        using var dir = new TempDirectory();
        string checkpoint = TinyRuns.Train(dir.Combine("run"), steps: 1);
        var (code, _, err) = Run("export", "--checkpoint", checkpoint, "--out", dir.Combine("m.onnx"), "--preset", "small");
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains("preset 'tiny', not 'small'", err);
        Assert.False(File.Exists(dir.Combine("m.onnx")));
    }

    [Fact]
    public void CheckpointWhoseWeightsDoNotMatchItsPresetIsRefused()
    {
        using var dir = new TempDirectory();
        string checkpoint = dir.Combine("forged.ckpt");
        // A header that says "tiny" in front of a small model's weights.
        var small = Presets.Get(Presets.Small);
        using var model = new UNet(small);
        using var opt = optim.AdamW(model.parameters());
        var state = new TrainState
        {
            Step = 1, ElapsedSeconds = 0, DatasetSha256 = "x", Model = Presets.Get(Presets.Tiny),
            Train = new TrainConfig { Data = "d", Preset = Presets.Tiny },
        };
        Checkpoint.Write(checkpoint, state, model, model, opt);
        var (code, _, err) = Run("export", "--checkpoint", checkpoint, "--out", dir.Combine("m.onnx"));
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains(checkpoint, err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(dir.Combine("m.onnx")));
    }

    [Fact]
    public void UnwritableOutputIsAnErrorAndLeavesNoPartialFile()
    {
        using var dir = new TempDirectory();
        TinyRuns.Train(dir.Combine("run"), steps: 1);
        File.WriteAllText(dir.Combine("afile"), "x");
        string beneathAFile = Path.Combine(dir.Combine("afile"), "m.onnx");
        var (code, _, err) = Run("export", "--checkpoint", dir.Combine("run"), "--out", beneathAFile);
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code);
        Assert.Contains("afile", err);
        Assert.Single(err.Trim().Split('\n'));

        var (code2, _, err2) = Run("export", "--checkpoint", dir.Combine("run"), "--out", dir.Combine("run"));
        Assert.Equal(KneeOnnxTrainCli.BadInputExitCode, code2);
        Assert.Contains("is a folder", err2);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.onnx", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial", SearchOption.AllDirectories));
    }

    [Fact]
    public void ExistingModelIsReplacedOnlyByACompleteOne()
    {
        using var dir = new TempDirectory();
        TinyRuns.Train(dir.Combine("run"), steps: 1);
        string onnx = dir.Combine("m.onnx");
        // An earlier model (ONNX files open with ir_version, tag 0x08): export may replace it, but only by a whole one.
        byte[] previous = [0x08, 0x07, .. "previous model"u8];
        File.WriteAllBytes(onnx, previous);
        var (code, _, _) = Run("export", "--checkpoint", dir.Combine("run"), "--out", onnx, "--tolerance", "1e-30");
        Assert.Equal(KneeOnnxTrainCli.ExportCheckFailedExitCode, code);
        Assert.Equal(previous, File.ReadAllBytes(onnx));
    }
}
