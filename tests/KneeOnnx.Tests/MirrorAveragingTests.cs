using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Classifier;

namespace KneeOnnx.Tests;

/// <summary>Grade classifiers that read each image and its left-right mirror and average the two (train-classifier --mirror-averaging).</summary>
public class MirrorAveragingTests
{
    private const int Side = 32;

    private static float[][] RandomImages(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, Side * Side).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    /// <summary>Mirrored by index arithmetic on the flat row-major image, independently of the tensor flip the classifier uses.</summary>
    private static float[] Mirror(float[] image)
    {
        var mirrored = new float[image.Length];
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
                mirrored[y * Side + x] = image[y * Side + Side - 1 - x];
        return mirrored;
    }

    /// <summary>
    /// The averaged probabilities are the mean of the single readings of the image and of its mirror, computed apart;
    /// so an image and its mirror get the same answer, which a network that is not mirror-blind does not give alone.
    /// </summary>
    [Fact]
    public void AveragesTheReadingsOfAnImageAndItsMirror()
    {
        TorchSharp.torch.manual_seed(3);
        using var net = ClassifierBackbone.Create(ClassifierBackbone.SmallCnn, [8, 16], 5);
        var images = RandomImages(6, 1);
        var mirrored = images.Select(Mirror).ToArray();
        var plain = ClassifierTrainer.Probabilities(net, images, Side);
        var ofMirror = ClassifierTrainer.Probabilities(net, mirrored, Side);
        var averaged = ClassifierTrainer.Probabilities(net, images, Side, mirrorAveraging: true);
        var averagedOfMirror = ClassifierTrainer.Probabilities(net, mirrored, Side, mirrorAveraging: true);

        double largestSingleGap = 0;
        for (int i = 0; i < images.Length; i++)
            for (int c = 0; c < 5; c++)
            {
                Assert.Equal((plain[i][c] + ofMirror[i][c]) / 2, averaged[i][c], 6);
                Assert.Equal(averaged[i][c], averagedOfMirror[i][c], 6);
                largestSingleGap = Math.Max(largestSingleGap, Math.Abs(plain[i][c] - ofMirror[i][c]));
            }
        Assert.True(largestSingleGap > 1e-4, $"the untrained network reads images and mirrors alike ({largestSingleGap}): the test could not tell averaging from none");
    }

    /// <summary>The choice travels in the file; a side classifier cannot make it, in a run's settings or in a file.</summary>
    [Fact]
    public void TheChoiceIsRecordedAndRefusedForSideClassifiers()
    {
        using var dir = new TempDirectory();
        TorchSharp.torch.manual_seed(4);
        using var net = ClassifierBackbone.Create(ClassifierBackbone.SmallCnn, [8, 16], 5);
        var header = new ClassifierHeader
        {
            ImageSize = Side, Widths = [8, 16], Epoch = 1, ValAccuracy = 0, ValQuadraticKappa = 0, ValMeanAbsoluteError = 0,
            ValRecall = new double[5], DatasetSha256 = "", MirrorAveraging = true,
        };
        string file = dir.Combine("grade.kcls");
        ClassifierFile.Save(file, header, net);
        var (loaded, loadedNet) = ClassifierFile.Load(file);
        loadedNet.Dispose();
        Assert.True(loaded.MirrorAveraging);

        var error = Assert.Throws<ArgumentException>(() => new ClassifierConfig { Target = ClassifierTarget.Side, MirrorAveraging = true }.Validate());
        Assert.Contains("--mirror-averaging", error.Message);

        using var sideNet = ClassifierBackbone.Create(ClassifierBackbone.SmallCnn, [8, 16], 2);
        string sideFile = dir.Combine("side.kcls");
        ClassifierFile.Save(sideFile, header with { Target = ClassifierTarget.Side, ValRecall = new double[2] }, sideNet);
        var refused = Assert.Throws<InvalidDataException>(() => ClassifierFile.Load(sideFile));
        Assert.Contains(sideFile, refused.Message);
    }

    /// <summary>A file from before the choice (the shipped 64² reference) reads each image once.</summary>
    [Fact]
    public void FilesFromBeforeTheChoiceReadOnce()
    {
        var header = ClassifierFile.ReadHeader(Path.Combine(ShippedModelTests.ModelsFolder(), "kl-reference-64.kcls"));
        Assert.False(header.MirrorAveraging);
    }
}
