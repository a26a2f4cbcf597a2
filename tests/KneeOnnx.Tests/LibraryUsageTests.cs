using KneeOnnx.Generation;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>The code of docs/integration.md (b), run as written.</summary>
public class LibraryUsageTests(TinyOnnxModel tiny) : IClassFixture<TinyOnnxModel>
{
    [Fact]
    public void GeneratesABatchInMemory()
    {
        using var model = KneeModel.Open(tiny.Path, new RuntimeOptions { Provider = ProviderRequest.Auto });
        Assert.StartsWith("provider: ", model.ProviderLine);
        using var generator = new ImageGenerator(model);
        var settings = new SamplerSettings { Sampler = "ddim", Steps = 5 };
        float[] batch = generator.Generate(grade: 2, seed: 7, indexes: [0, 1, 2, 3], settings);
        Assert.Equal(4 * model.Info.ImageSize * model.Info.ImageSize, batch.Length);
        Assert.All(batch, v => Assert.InRange(v, -1f, 1f));
        // Image 2 alone starts from the same noise as image 2 of the batch and ends at the same image.
        float[] single = generator.Generate(grade: 2, seed: 7, indexes: [2], settings);
        int area = model.Info.ImageSize * model.Info.ImageSize;
        var inBatch = batch.AsSpan(2 * area, area).ToArray();
        Assert.All(single.Zip(inBatch), p => Assert.Equal(p.First, p.Second, 1e-5f));
    }
}
