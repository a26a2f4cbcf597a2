using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Classifier;

namespace KneeOnnx.Tests;

/// <summary>What the repository ships in models/ must load, describe itself, generate, and carry its card and credit.</summary>
public class ShippedModelTests
{
    internal static string ModelsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KneeOnnx.sln")))
                return Path.Combine(dir.FullName, "models");
        throw new DirectoryNotFoundException("repository root (KneeOnnx.sln) not found above the test binaries");
    }

    internal static string DefaultFolder() => Path.Combine(ModelsFolder(), "kneeonnx-default");

    [Fact]
    public void TheDefaultModelIsALatentFolderThatDrawsKneesAndHasItsCard()
    {
        string folder = DefaultFolder();
        long bytes = Directory.GetFiles(folder, "*.onnx", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(bytes <= 60_000_000, $"the shipped model folder holds {bytes / 1e6:F1} MB; it must stay within 60 MB to be committed");
        using var model = KneeModel.Open(folder, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        Assert.True(model.Info.IsLatent);
        Assert.Equal((4, 32, 128), (model.Info.Channels, model.Info.ImageSize, model.Info.OutputImageSize));
        Assert.Equal(5, model.Info.GradeNames.Count);
        Assert.True(model.Info.SupportsGuidance);
        Assert.True(model.Info.IsSideConditioned);

        // Decoded samples are images, not a flat field or a saturated one (what a broken decoder pairing or a diverged
        // U-Net gives): a constant image has a pixel standard deviation of 0; a low-contrast KL4 sample of the shipped
        // model measured 0.09 (such exposures are part of the data), so the bar is well below that.
        using var generator = new KneeOnnx.Generation.ImageGenerator(model);
        var settings = new KneeOnnx.Generation.SamplerSettings(); // DDPM-50, unguided: the library default, not the model's own
        foreach (int grade in new[] { 0, 4 })
        {
            float[] images = generator.Generate(grade, 1, [0, 1], settings);
            int area = images.Length / 2;
            for (int k = 0; k < 2; k++)
            {
                var image = images.AsSpan(k * area, area).ToArray();
                double mean = image.Average(), sd = Math.Sqrt(image.Average(v => (v - mean) * (v - mean)));
                double clipped = image.Count(v => Math.Abs(v) >= 0.999f) / (double)area;
                Assert.True(sd > 0.04, $"KL{grade} #{k}: pixel standard deviation {sd:F3}, a flat image");
                Assert.True(clipped < 0.2, $"KL{grade} #{k}: {clipped:P0} of the pixels at ±1");
            }
        }

        string card = File.ReadAllText(Path.Combine(folder, "unet", "model.md"));
        Assert.Contains(model.Sha256, card);
        Assert.Contains("doi:10.17632/56rmx5bjcr.1", card);
        Assert.Contains("## Evaluation on val", card);
    }

    [Fact]
    public void ReferenceClassifierSeparatesNothingFromSomething()
    {
        // Without real data: the classifier must not be constant — a flat image and a knee-like band get different
        // probability vectors (a broken or untrained file gives the same near-uniform output for both).
        var (header, net) = ClassifierFile.Load(Path.Combine(ModelsFolder(), "kl-reference-64.kcls"));
        using (net)
        {
            Assert.Equal(64, header.ImageSize);
            var band = Enumerable.Range(0, 64 * 64).Select(i => Math.Abs(i % 64 - 32) < 14 ? 0.4f : -0.7f).ToArray();
            var p = ClassifierTrainer.Probabilities(net, [new float[64 * 64], band], 64);
            Assert.True(p[0].Zip(p[1], (a, b) => Math.Abs(a - b)).Max() > 0.01, "the classifier answers the same for a flat image and a knee-like band");
        }
    }

    [RealDataFact]
    public void ReferenceClassifierReproducesItsRecordedValAccuracy()
    {
        // The accuracy stored at training time, recomputed now on the val split it was measured on.
        var (header, net) = ClassifierFile.Load(Path.Combine(ModelsFolder(), "kl-reference-64.kcls"));
        using (net)
        {
            var val = KneeOnnx.Training.Data.KneeDataset.Load(RealData.Root!, "val", header.ImageSize);
            var predicted = ClassifierTrainer.Predict(net, val.Images, header.ImageSize);
            double accuracy = predicted.Zip(val.Grades, (p, g) => p == g ? 1.0 : 0.0).Average();
            Assert.Equal(header.ValAccuracy, accuracy, 3);
        }
    }

    [RealDataFact]
    public void ResNetReferenceReproducesItsRecordedValFigures()
    {
        // The 224² reference reads each image and its mirror (its header says so); recomputed the way evaluate reads it.
        var (header, net) = ClassifierFile.Load(Path.Combine(ModelsFolder(), "kl-resnet18-224.kcls"));
        using (net)
        {
            Assert.True(header.MirrorAveraging);
            var val = KneeOnnx.Training.Data.KneeDataset.Load(RealData.Root!, "val", header.ImageSize);
            var metrics = ClassificationMetrics.Of(val.Grades, ClassifierTrainer.Predict(net, val.Images, header.ImageSize, header.MirrorAveraging));
            Assert.Equal(header.ValAccuracy, metrics.Accuracy, 3);
            Assert.Equal(header.ValQuadraticKappa, metrics.QuadraticKappa, 3);
        }
    }

    [RealDataFact]
    public void SideClassifierTellsTheSideOfRealValKneesFromTheirPixels()
    {
        // Truth from the file names (…L.png / …R.png), prediction from the pixels alone.
        var (header, net) = ClassifierFile.Load(Path.Combine(ModelsFolder(), "side-reference-64.kcls"));
        using (net)
        {
            Assert.Equal(ClassifierTarget.Side, header.Target);
            var val = KneeOnnx.Training.Data.KneeDataset.Load(RealData.Root!, "val", header.ImageSize);
            var predicted = ClassifierTrainer.Predict(net, val.Images, header.ImageSize);
            double accuracy = predicted.Zip(val.Sides, (p, s) => p == s ? 1.0 : 0.0).Average();
            Assert.Equal(header.ValAccuracy, accuracy, 3);
            Assert.True(accuracy >= 0.9, $"side accuracy {accuracy:F3} on real val knees");
        }
    }
}
