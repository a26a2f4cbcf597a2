using KneeOnnx.Generation;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Classifier;

namespace KneeOnnx.Tests;

/// <summary>What the repository ships in models/ must load, describe itself, generate, and carry its card and credit.</summary>
public class ShippedModelTests
{
    private static string ModelsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KneeOnnx.sln")))
                return Path.Combine(dir.FullName, "models");
        throw new DirectoryNotFoundException("repository root (KneeOnnx.sln) not found above the test binaries");
    }

    [Fact]
    public void DefaultModelLoadsGeneratesAndHasItsCard()
    {
        string path = Path.Combine(ModelsFolder(), "kneeonnx-default.onnx");
        Assert.True(new FileInfo(path).Length < 50_000_000, "the shipped model must stay under 50 MB");
        using var model = KneeModel.Open(path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        Assert.Equal(64, model.Info.ImageSize);
        Assert.Equal(5, model.Info.GradeNames.Count);
        Assert.True(model.Info.SupportsGuidance);
        Assert.Equal(model.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))));

        using var generator = new ImageGenerator(model);
        var pixels = generator.Generate(3, 1, [0, 1], new SamplerSettings { Sampler = "ddim", Steps = 3 });
        Assert.Equal(2 * 64 * 64, pixels.Length);
        Assert.All(pixels, v => Assert.InRange(v, -1f, 1f));

        string card = File.ReadAllText(Path.ChangeExtension(path, ".md"));
        Assert.Contains(model.Sha256, card);
        Assert.Contains("doi:10.17632/56rmx5bjcr.1", card);
        Assert.Contains("## Evaluation on val", card);
    }

    [Fact]
    public void ReferenceClassifierLoadsWithItsValFigures()
    {
        var (header, net) = ClassifierFile.Load(Path.Combine(ModelsFolder(), "kl-reference-64.kcls"));
        using (net)
        {
            Assert.Equal(64, header.ImageSize);
            Assert.InRange(header.ValAccuracy, 0.2, 1.0);
            var probabilities = ClassifierTrainer.Probabilities(net, [new float[64 * 64]], 64);
            Assert.Equal(1.0, probabilities[0].Sum(), 4);
        }
    }
}
