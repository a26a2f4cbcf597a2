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

    /// <summary>
    /// The ImageNet ResNet-18 fine-tuned on the same easy synthetic task and kept as float16 (how train-classifier
    /// stores it): it learns, its file names its backbone and precision, and the val figures it records are those of the
    /// weights it loads back.
    /// </summary>
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
        var config = ClassifierConfig.ForBackbone(ClassifierBackbone.ResNet18ImageNet) with { ImageSize = 32, Epochs = 8, BatchSize = 16, LearningRate = 1e-3, Threads = 2, Weights = ClassifierWeights.Float16 };
        var best = ClassifierTrainer.Train(config, train, val, file, output);
        log.WriteLine(output.ToString());
        Assert.True(best.ValAccuracy > 0.5, $"val accuracy {best.ValAccuracy:F2} on an easy synthetic task");
        var (header, net) = ClassifierFile.Load(file);
        using (net)
        {
            Assert.Equal(ClassifierBackbone.ResNet18ImageNet, header.Backbone);
            Assert.IsType<ResNetClassifierNet>(net);
            Assert.Equal(ClassifierWeights.Float16, header.Weights);
            var metrics = ClassificationMetrics.Of(val.Grades, ClassifierTrainer.Predict(net, val.Images, 32));
            Assert.Equal(best.ValAccuracy, metrics.Accuracy, 12);
        }
    }

    /// <summary>
    /// A float16 file holds half a float32 one's bytes and loads back every parameter as .NET's own <see cref="Half"/>
    /// rounding of the original (an independent conversion), buffers exactly — including a batch-norm variance beyond
    /// float16's range, as behind the ImageNet stem — and probabilities within half precision's reach of the float32
    /// network's; a truncated file is refused naming it.
    /// </summary>
    [Fact]
    public void Float16FilesHoldTheRoundedWeightsInHalfTheBytes()
    {
        using var dir = new TempDirectory();
        TorchSharp.torch.manual_seed(5);
        using var net = ClassifierBackbone.Create(ClassifierBackbone.ResNet18ImageNet, [], 5);
        var parameters = net.named_parameters().Select(p => p.name).ToHashSet();
        const float beyondHalf = 3e5f; // float16 stops at 65,504
        using (TorchSharp.torch.no_grad())
        {
            var stemVariance = net.state_dict().Single(e => e.Key.EndsWith("stem_norm.running_var")).Value;
            stemVariance.fill_(beyondHalf);
        }
        var header = new ClassifierHeader
        {
            ImageSize = 64, Widths = [], Backbone = ClassifierBackbone.ResNet18ImageNet, Epoch = 1, ValAccuracy = 0, ValQuadraticKappa = 0,
            ValMeanAbsoluteError = 0, ValRecall = new double[5], DatasetSha256 = "",
        };
        string wide = dir.Combine("wide.kcls"), narrow = dir.Combine("narrow.kcls");
        ClassifierFile.Save(wide, header, net);
        ClassifierFile.Save(narrow, header with { Weights = ClassifierWeights.Float16 }, net);
        double ratio = (double)new FileInfo(narrow).Length / new FileInfo(wide).Length;
        log.WriteLine($"float32 {new FileInfo(wide).Length:N0} bytes, float16 {new FileInfo(narrow).Length:N0} ({ratio:F3})");
        Assert.InRange(ratio, 0.49, 0.52);

        var (loadedHeader, loaded) = ClassifierFile.Load(narrow);
        using (loaded)
        {
            Assert.Equal(ClassifierWeights.Float16, loadedHeader.Weights);
            var original = net.state_dict();
            int floating = 0;
            foreach (var (name, tensor) in loaded.state_dict())
            {
                if (!parameters.Contains(name))
                {
                    if (tensor.is_floating_point()) Assert.Equal(original[name].data<float>().ToArray(), tensor.data<float>().ToArray());
                    else Assert.Equal(original[name].data<long>().ToArray(), tensor.data<long>().ToArray());
                    continue;
                }
                floating++;
                var expected = original[name].data<float>().ToArray().Select(v => (float)(Half)v).ToArray();
                Assert.Equal(expected, tensor.data<float>().ToArray());
            }
            Assert.True(floating > 50, $"{floating} parameters compared");
            Assert.Contains(beyondHalf, loaded.state_dict().Single(e => e.Key.EndsWith("stem_norm.running_var")).Value.data<float>().ToArray());

            var image = SyntheticKnees.Pixels(3, 1, 64).Select(KneeOnnx.Imaging.PixelScale.ToModel).ToArray();
            var before = ClassifierTrainer.Probabilities(net, [image], 64)[0];
            var after = ClassifierTrainer.Probabilities(loaded, [image], 64)[0];
            for (int c = 0; c < 5; c++) Assert.InRange(after[c] - before[c], -0.02, 0.02);
        }

        byte[] bytes = File.ReadAllBytes(narrow);
        string cut = dir.Combine("cut.kcls");
        File.WriteAllBytes(cut, bytes[..(bytes.Length - 1000)]);
        var refused = Assert.Throws<InvalidDataException>(() => ClassifierFile.Load(cut));
        Assert.Contains(cut, refused.Message);
    }
}
