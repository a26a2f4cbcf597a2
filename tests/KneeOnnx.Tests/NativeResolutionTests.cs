using KneeOnnx.Imaging;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Evaluation;
using KneeOnnx.Training.Model;
using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Tests;

/// <summary>The whole pipeline at the data's native 224², with the tiny network: load, train, export, generate, evaluate.</summary>
public class NativeResolutionTests
{
    [Fact]
    public void ImagesAtTheirOwnSizeAreReadWithoutResampling()
    {
        using var dir = new TempDirectory();
        byte[] gray = SyntheticKnees.Pixels(3, 7, 224);
        string png = dir.Combine("9001234L.png");
        SyntheticKnees.WritePng(png, gray, 224);
        float[] read = new GrayImageReader().ReadScaled(png, 224);
        Assert.Equal(224 * 224, read.Length);
        for (int i = 0; i < gray.Length; i++)
            Assert.Equal(gray[i] / 127.5f - 1f, read[i], 6);
    }

    [Fact]
    public void The224PresetIsTheReportsNetworkAtTheNativeSize()
    {
        var native = Presets.Get(Presets.Paper224);
        var paper = Presets.Get(Presets.Paper);
        Assert.Equal(224, native.ImageSize);
        Assert.Equal(7, native.ImageSize >> (native.Widths.Length - 1));
        Assert.Equal(paper.Widths, native.Widths);
        // Convolutions and attention do not depend on the image size, so the weights are the same in number.
        using var a = new UNet(native);
        using var b = new UNet(paper);
        Assert.Equal(b.ParameterCount, a.ParameterCount);
    }

    [Fact]
    public void TrainExportGenerateAndEvaluateAt224()
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 224);
        SyntheticKnees.WriteDataset(data, perGrade: 2, side: 224, split: "val", firstIndex: 50);
        var train = InProcessCli.Train("train", "--data", data, "--out", dir.Combine("run"), "--preset", "tiny", "--image-size", "224", "--steps", "2", "--batch", "2", "--threads", "2");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("tiny preset at 224²", train.Out);

        string onnx = dir.Combine("m224.onnx");
        var export = InProcessCli.Train("export", "--checkpoint", dir.Combine("run"), "--out", onnx);
        Assert.True(export.Code == 0, export.Err);
        using (var session = new InferenceSession(onnx))
        {
            Assert.Equal("224", session.ModelMetadata.CustomMetadataMap[ModelContract.Keys.ImageSize]);
            Assert.Equal([-1L, 1, 224, 224], session.InputMetadata[ModelContract.SampleInput].Dimensions.Select(d => (long)d).ToArray());
            double selfCheck = double.Parse(session.ModelMetadata.CustomMetadataMap[ModelContract.Keys.SelfCheckMaxAbsDiff], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(selfCheck, 0, 1e-4);
        }

        string generated = dir.Combine("gen");
        var gen = InProcessCli.Generate("generate", "--model", onnx, "--provider", "cpu", "--per-grade", "2", "--steps", "2", "--out", generated);
        Assert.True(gen.Code == 0, gen.Err);
        string first = Directory.GetFiles(Path.Combine(generated, "0"), "*.png")[0];
        Assert.Equal((224, 224), new GrayImageReader().ReadSize(first));

        var report = Evaluator.Run(new EvaluationRequest(generated, Path.Combine(data, "val"), Path.Combine(data, "train"), dir.Combine("report")), TextWriter.Null)!;
        Assert.Equal(224, report.ImageSide);
        Assert.Equal(10, report.Counts["all"].Generated);
        Assert.NotNull(report.Floor["all"]);
    }

    [Theory]
    [InlineData("small", "100", "divisible by 2^3")]
    [InlineData("tiny", "4", "--image-size must be in 8..1024")]
    public void ImageSizesTheNetworkCannotHalveAreRefused(string preset, string size, string expected)
    {
        using var dir = new TempDirectory();
        string data = SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 1, side: 32);
        var (code, _, err) = InProcessCli.Train("train", "--data", data, "--out", dir.Combine("run"), "--preset", preset, "--image-size", size, "--steps", "1");
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
    }

    [Fact]
    public void TheImageSizeComesFromTheModelWhenContinuingOne()
    {
        var (code, _, err) = InProcessCli.Train("train", "--data", "d", "--out", "o", "--init-from", "m.onnx", "--image-size", "224");
        Assert.Equal(2, code);
        Assert.Contains("--image-size cannot be combined with --init-from", err);
    }
}
