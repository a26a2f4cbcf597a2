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

    [Fact]
    public void DefaultModelPredictsTheNoiseAndHasItsCard()
    {
        string path = Path.Combine(ModelsFolder(), "kneeonnx-default.onnx");
        Assert.True(new FileInfo(path).Length < 50_000_000, "the shipped model must stay under 50 MB");
        using var model = KneeModel.Open(path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        Assert.Equal(64, model.Info.ImageSize);
        Assert.Equal(5, model.Info.GradeNames.Count);
        Assert.True(model.Info.SupportsGuidance);

        // A trained ε-predictor must recover the noise it is shown: x_t = √ᾱ·x₀ + √(1−ᾱ)·ε for a smooth knee-like
        // x₀ (a bright vertical band on a dark field) and known ε. Predicting zero scores an MSE of 1; an untrained
        // network about 1 or more.
        int area = 64 * 64;
        var x0 = Enumerable.Range(0, area).Select(i => Math.Abs(i % 64 - 32) < 14 ? 0.4f : -0.7f).ToArray();
        var rng = new Random(11);
        var eps = Enumerable.Range(0, area).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray();
        using var estimator = new NoiseEstimator(model);
        foreach (int t in new[] { 200, 500, 900 })
        {
            double ab = model.Info.Schedule.AlphaBarAt(t);
            var xt = x0.Select((v, i) => (float)(Math.Sqrt(ab) * v + Math.Sqrt(1 - ab) * eps[i])).ToArray();
            var predicted = new float[area];
            estimator.Predict(xt, 1, t, 2, 1.0, predicted);
            double mse = predicted.Select((p, i) => (p - eps[i]) * (double)(p - eps[i])).Average();
            Assert.True(mse < 0.1, $"t = {t}: noise MSE {mse:F3}");
        }

        string card = File.ReadAllText(Path.ChangeExtension(path, ".md"));
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
