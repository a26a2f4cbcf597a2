using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Data;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

public class ClassifierTests(ITestOutputHelper log)
{
    [Fact]
    public void PerfectPredictionsScoreOne()
    {
        int[] truth = [0, 1, 2, 3, 4, 4, 2];
        var m = ClassificationMetrics.Of(truth, truth);
        Assert.Equal(1.0, m.Accuracy);
        Assert.Equal(1.0, m.QuadraticKappa, 12);
        Assert.Equal(0.0, m.MeanAbsoluteError);
        Assert.All(m.Recall, r => Assert.Equal(1.0, r));
    }

    [Fact]
    public void QuadraticKappaMatchesAHandComputedCase()
    {
        // O: (0,0), (1,2), (2,2); rows (1,1,1,0,0), columns (1,0,2,0,0), w = (i−j)²/16.
        // Σw·O = 1/16; Σw·E = (4/16·2 + 1/16·1 + 1/16·2 + 4/16·1)/3 = 0.3125; κ = 1 − 0.0625/0.3125 = 0.8.
        var m = ClassificationMetrics.Of([0, 1, 2], [0, 2, 2]);
        Assert.Equal(0.8, m.QuadraticKappa, 12);
        Assert.Equal(2.0 / 3, m.Accuracy, 12);
        Assert.Equal(1.0 / 3, m.MeanAbsoluteError, 12);
        Assert.Equal(0.0, m.Recall[1]);
        Assert.True(double.IsNaN(m.Recall[3]));
    }

    [Fact]
    public void LearnsTheSyntheticGradesAndKeepsTheBestEpoch()
    {
        using var dir = new TempDirectory();
        var (trainImages, trainGrades) = SyntheticKnees.InMemory(24, 32);
        var train = KneeDataset.FromMemory(32, trainImages, trainGrades);
        var valImages = new List<float[]>();
        var valGrades = new List<int>();
        for (int g = 0; g < 5; g++)
            for (int i = 200; i < 208; i++)
            {
                valImages.Add(SyntheticKnees.Pixels(g, i, 32).Select(KneeOnnx.Imaging.PixelScale.ToModel).ToArray());
                valGrades.Add(g);
            }
        var val = KneeDataset.FromMemory(32, valImages.ToArray(), valGrades.ToArray());
        string file = dir.Combine("cls.bin");
        var output = new StringWriter();
        var best = ClassifierTrainer.Train(new ClassifierConfig { ImageSize = 32, Widths = [8, 16, 32], Epochs = 30, BatchSize = 16, LearningRate = 3e-3, Threads = 2 }, train, val, file, output);
        log.WriteLine(output.ToString());
        Assert.True(best.ValAccuracy > 0.5, $"val accuracy {best.ValAccuracy:F2} on an easy synthetic task");
        var (header, net) = ClassifierFile.Load(file);
        using (net)
        {
            Assert.Equal(best.Epoch, header.Epoch);
            var metrics = ClassificationMetrics.Of(val.Grades, ClassifierTrainer.Predict(net, val.Images, 32));
            Assert.Equal(best.ValAccuracy, metrics.Accuracy, 12);
        }
    }

    /// <summary>The ImageNet ResNet-18 fine-tuned on the same easy synthetic task: it learns, its file names its backbone, and it loads back to the same predictions.</summary>
    [Fact]
    public void PretrainedResNetLearnsTheSyntheticGradesAndLoadsBack()
    {
        using var dir = new TempDirectory();
        var (trainImages, trainGrades) = SyntheticKnees.InMemory(24, 32);
        var train = KneeDataset.FromMemory(32, trainImages, trainGrades);
        var valImages = Enumerable.Range(0, 5).SelectMany(g => Enumerable.Range(200, 8).Select(i => SyntheticKnees.Pixels(g, i, 32).Select(KneeOnnx.Imaging.PixelScale.ToModel).ToArray())).ToArray();
        var val = KneeDataset.FromMemory(32, valImages, Enumerable.Range(0, 5).SelectMany(g => Enumerable.Repeat(g, 8)).ToArray());
        string file = dir.Combine("resnet.kcls");
        var output = new StringWriter();
        var config = ClassifierConfig.ForBackbone(ClassifierBackbone.ResNet18ImageNet) with { ImageSize = 32, Epochs = 8, BatchSize = 16, LearningRate = 1e-3, Threads = 2 };
        var best = ClassifierTrainer.Train(config, train, val, file, output);
        log.WriteLine(output.ToString());
        Assert.True(best.ValAccuracy > 0.5, $"val accuracy {best.ValAccuracy:F2} on an easy synthetic task");
        var (header, net) = ClassifierFile.Load(file);
        using (net)
        {
            Assert.Equal(ClassifierBackbone.ResNet18ImageNet, header.Backbone);
            Assert.IsType<ResNetClassifierNet>(net);
            var metrics = ClassificationMetrics.Of(val.Grades, ClassifierTrainer.Predict(net, val.Images, 32));
            Assert.Equal(best.ValAccuracy, metrics.Accuracy, 12);
        }
    }
}
