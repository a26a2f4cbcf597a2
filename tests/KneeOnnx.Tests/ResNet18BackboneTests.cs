using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Backbones;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>The TorchSharp ResNet-18 with the package's weights against ONNX Runtime running the package's own file.</summary>
public class ResNet18BackboneTests(ITestOutputHelper log)
{
    [Fact]
    public void LoadedNetworkReproducesThePackageNetworkInOnnxRuntime()
    {
        set_num_threads(2);
        // A knee-like gray image replicated to three channels, 0–255, minus a per-channel mean: the kind of input the
        // perceptual loss and the classifier feed; plus noise so no two channels are equal.
        var (images, _) = SyntheticKnees.InMemory(1, 224);
        var input = new float[3 * 224 * 224];
        var noise = new Random(5);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 224 * 224; i++)
                input[c * 224 * 224 + i] = (images[0][i] + 1) * 127.5f - 110 + (float)(noise.NextDouble() * 20 - 10);

        using var session = new InferenceSession(ResNet18Weights.DefaultPath);
        using var ortInput = OrtValue.CreateTensorValueFromMemory(input, [1, 3, 224, 224]);
        using var runOptions = new RunOptions();
        using var ortOutput = session.Run(runOptions, ["Input247"], [ortInput], ["Pooling395_Output_0"]);
        var expected = ortOutput[0].GetTensorDataAsSpan<float>().ToArray();

        using var net = ResNet18Weights.Load();
        using var _ = no_grad();
        var actual = net.forward(tensor(input, [1, 3, 224, 224])).data<float>().ToArray();

        Assert.Equal(512, actual.Length);
        double worst = 0, scale = expected.Max(Math.Abs);
        for (int i = 0; i < 512; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        log.WriteLine($"max |TorchSharp − ORT| = {worst:G3} over features up to {scale:G3}");
        Assert.True(scale > 0.1, "the features are all near zero: the comparison would prove nothing");
        Assert.True(worst < 1e-4 * scale, $"features differ by {worst:G3} (largest {scale:G3})");
    }

    [Fact]
    public void FeaturesStopAfterTheStagesAskedFor()
    {
        using var net = ResNet18Weights.Load();
        using var _ = no_grad();
        var features = net.Features(zeros(2, 3, 64, 64), stages: 2);
        Assert.Equal(3, features.Count);
        Assert.Equal(new long[] { 2, 64, 32, 32 }, features[0].shape);  // stem, after its stride-2 7×7
        Assert.Equal(new long[] { 2, 64, 16, 16 }, features[1].shape);  // stage 1, after the max-pool
        Assert.Equal(new long[] { 2, 128, 8, 8 }, features[2].shape);   // stage 2
    }
}
