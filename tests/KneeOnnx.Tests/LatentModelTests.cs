using KneeOnnx.Generation;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace KneeOnnx.Tests;

/// <summary>A latent model through the library: one sampling loop on latents, then its decoder; clipping follows the model.</summary>
public class LatentModelTests(TinyLatentModel latent, ITestOutputHelper log) : IClassFixture<TinyLatentModel>
{
    private static readonly RuntimeOptions Cpu = new() { Provider = ProviderRequest.Cpu, IntraOpThreads = 2 };
    private static readonly SamplerSettings Settings = new() { Sampler = "ddim", Steps = 4 };

    /// <summary>The decoder file run in a session of the test's own, outside the library.</summary>
    internal static float[] DecodeIndependently(string decoderPath, float[] latents, int n)
    {
        using var session = new InferenceSession(decoderPath);
        using var input = OrtValue.CreateTensorValueFromMemory(latents, [n, TinyLatentModel.LatentChannels, TinyLatentModel.LatentSize, TinyLatentModel.LatentSize]);
        using var run = new RunOptions();
        using var output = session.Run(run, [AutoencoderContract.LatentName], [input], [AutoencoderContract.ImageName]);
        Assert.Equal(new long[] { n, 1, TinyLatentModel.OutputSize, TinyLatentModel.OutputSize }, output[0].GetTensorTypeAndShape().Shape);
        return output[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void OpeningTheFolderOpensTheU_NetAndItsCheckedDecoder()
    {
        using var model = KneeModel.Open(latent.Folder, Cpu);
        Assert.Equal(Path.GetFullPath(latent.UNetPath), Path.GetFullPath(model.Path));
        Assert.Equal(TinyLatentModel.Sha256(latent.UNetPath), model.Sha256);
        Assert.Equal(latent.DecoderSha256, model.DecoderSha256);
        Assert.Equal(Path.GetFullPath(latent.DecoderPath), model.Decoder!.Path);
        var info = model.Info;
        Assert.True(info.IsLatent);
        Assert.Equal((4, 8, 32, 4, false), (info.Channels, info.ImageSize, info.OutputImageSize, info.Factor, info.ClipSample));
        Assert.Equal((4, 8, 32), (model.Decoder.Info.LatentChannels, model.Decoder.Info.LatentSize, model.Decoder.Info.ImageSize));
    }

    [Fact]
    public void GeneratedImagesAreTheDecoderOfTheLoopsLatents()
    {
        using var model = KneeModel.Open(latent.UNetPath, Cpu);
        using var generator = new ImageGenerator(model);
        Assert.Equal((4 * 8 * 8, 32, 32 * 32), (generator.ValuesPerSample, generator.ImageSize, generator.ValuesPerImage));
        long[] indexes = [0, 1, 2];
        float[] latents = generator.Denoise(2, 5, indexes, Settings);
        float[] images = generator.Generate(2, 5, indexes, Settings);
        Assert.Equal(3 * 4 * 8 * 8, latents.Length);
        Assert.Equal(3 * 32 * 32, images.Length);
        float[] expected = DecodeIndependently(latent.DecoderPath, latents, 3);
        Assert.Equal(expected, images);
        // Not a degenerate comparison: the latents leave [-1, 1] (nothing clipped them) and the images are not flat.
        log.WriteLine($"latents {latents.Min():F3}..{latents.Max():F3}, images {images.Min():F3}..{images.Max():F3}, {images.Select(v => Imaging.PixelScale.ToByte(v)).Distinct().Count()} gray levels, {images.Count(v => Math.Abs(v) == 1) / (double)images.Length:P0} saturated");
        Assert.True(latents.Max(Math.Abs) > 1, "latents are never clipped to [-1, 1]");
        Assert.True(images.Select(v => Imaging.PixelScale.ToByte(v)).Distinct().Count() > 16, "decoded images hold more than a few gray levels");
    }

    [Fact]
    public void ClippingDefaultsFollowTheModel()
    {
        using var model = KneeModel.Open(latent.Folder, Cpu);
        var info = model.Info;
        foreach (string sampler in new[] { "ddpm", "ddim", "dpm++2m" })
        {
            var auto = new SamplerSettings { Sampler = sampler };
            Assert.False(auto.ClipFor(info));
            Assert.False((auto with { ClipDenoised = false }).ClipFor(info));
            var on = auto with { ClipDenoised = true };
            var e = Assert.Throws<ArgumentException>(() => on.Validate(info));
            Assert.Contains("--clip-x0 on", e.Message);
            Assert.Contains(ModelContract.Keys.ClipSample, e.Message);
        }
    }

    [Fact]
    public void ThePixelPassThroughRefusesALatentModel()
    {
        using var model = KneeModel.Open(latent.Folder, Cpu);
        var e = Assert.Throws<ArgumentException>(() => new PixelPassThrough(model.Info));
        Assert.Contains(TinyLatentModel.DecoderRelative, e.Message);
        using var estimator = new NoiseEstimator(model);
        Assert.Throws<ArgumentException>(() => new ImageGenerator(estimator));
        // With its decoder behind the seam, a predictor of the caller's own generates what the model does.
        using var decoder = new LatentDecoder(model);
        using var generator = new ImageGenerator(estimator, decoder: decoder);
        using var reference = new ImageGenerator(model);
        Assert.Equal(reference.Generate(1, 3, [4], Settings), generator.Generate(1, 3, [4], Settings));
    }

    /// <summary>A predictor that only carries a contract, for checking what the generator accepts.</summary>
    private sealed class ContractOnly(ModelInfo info) : INoisePredictor
    {
        public bool Disposed { get; private set; }
        public ModelInfo Info => info;
        public void Predict(ReadOnlySpan<float> samples, int n, int timestep, int grade, double guidance, Span<float> noise, int side = KneeSides.None) => noise.Clear();
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void ADecoderOfOtherShapesIsRefusedByTheGenerator()
    {
        using var model = KneeModel.Open(latent.Folder, Cpu);
        var pixelMeta = model.Info.Metadata
            .Where(kv => kv.Key is not (ModelContract.Keys.Decoder or ModelContract.Keys.DecoderSha256 or ModelContract.Keys.OutputImageSize or ModelContract.Keys.ClipSample))
            .ToDictionary(kv => kv.Key, kv => kv.Key == ModelContract.Keys.Channels ? "1" : kv.Value);
        var pixel = ModelInfo.Parse("pixel", pixelMeta);
        Assert.False(pixel.IsLatent);
        Assert.Equal((8, 1, true), (pixel.OutputImageSize, pixel.Factor, pixel.ClipSample));
        using var decoder = new LatentDecoder(model);
        var e = Assert.Throws<ArgumentException>(() => new ImageGenerator(new ContractOnly(pixel), decoder: decoder));
        Assert.Contains("the decoder takes 4×8² samples to 32² images, but the model makes 1×8² samples for 8² images", e.Message);
        // A constructor that throws is never disposed: what it was given to own is released before it throws, the rest is not.
        var (owned, ownedGuide, lent) = (new ContractOnly(pixel), new ContractOnly(pixel), new ContractOnly(pixel));
        Assert.Throws<ArgumentException>(() => new ImageGenerator(owned, ownsPredictor: true, decoder, ownsDecoder: false, ownedGuide, ownsGuide: true));
        Assert.Throws<ArgumentException>(() => new ImageGenerator(lent, ownsPredictor: false, decoder, ownsDecoder: false));
        Assert.Equal((true, true, false), (owned.Disposed, ownedGuide.Disposed, lent.Disposed));
        // A latent contract without a decoder (a model opened as a guide) is refused by the pass-through; what was owned is released too.
        var (ownedLatent, ownedLatentGuide) = (new ContractOnly(model.Info), new ContractOnly(model.Info));
        var noDecoder = Assert.Throws<ArgumentException>(() => new ImageGenerator(ownedLatent, ownsPredictor: true, guide: ownedLatentGuide, ownsGuide: true));
        Assert.Contains("needs its decoder, not the pixel pass-through", noDecoder.Message);
        Assert.Equal((true, true), (ownedLatent.Disposed, ownedLatentGuide.Disposed));
        using var guideOnly = KneeModel.OpenGuide(latent.Folder, Cpu);
        Assert.Contains("was opened as a guide, without its decoder", Assert.Throws<ArgumentException>(() => new LatentDecoder(guideOnly)).Message);
        // The pass-through is the default for a pixel contract, and the generator writes at the U-Net's size.
        using var plain = new ImageGenerator(new ContractOnly(pixel));
        Assert.IsType<PixelPassThrough>(plain.Decoder);
        Assert.Equal((8, 64, 64), (plain.ImageSize, plain.ValuesPerImage, plain.ValuesPerSample));
    }
}
