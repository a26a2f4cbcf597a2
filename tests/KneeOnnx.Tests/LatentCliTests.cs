using KneeOnnx.Generation;
using KneeOnnx.Imaging;
using KneeOnnx.Output;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace KneeOnnx.Tests;

/// <summary>generate, grid and info on a latent model, named by its folder or its U-Net file.</summary>
public class LatentCliTests(TinyLatentModel latent) : IClassFixture<TinyLatentModel>
{
    private static readonly SamplerSettings Ddim4 = new() { Sampler = "ddim", Steps = 4 };

    private static InProcessCli.Result Run(params string[] args) => InProcessCli.Generate(args);

    private string[] Generate(string model, string outDir, params string[] extra) =>
        ["generate", "--model", model, "--provider", "cpu", "--sampler", "ddim", "--steps", "4", "--seed", "5", "--out", outDir, .. extra];

    private static Dictionary<string, byte[]> Files(string dir) => PngFiles.Under(dir);

    [Fact]
    public void GenerateFromTheFolderWritesTheDecodedLatentsAtTheDecodersSize()
    {
        using var dir = new TempDirectory();
        var (code, stdout, err) = Run(Generate(latent.Folder, dir.Path, "--grades", "2", "--per-grade", "3", "--batch", "2"));
        Assert.True(code == 0, err);
        Assert.Contains("4×8² latents → 32²", stdout);

        // The same loop's latents, decoded outside the library, are the PNGs' pixels.
        using var model = KneeModel.Open(latent.Folder, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var generator = new ImageGenerator(model);
        float[] latents = generator.Denoise(2, 5, [0, 1, 2], Ddim4);
        float[] expected = LatentModelTests.DecodeIndependently(latent.DecoderPath, latents, 3);
        for (int i = 0; i < 3; i++)
        {
            string png = Path.Combine(dir.Path, "2", GenerationPlan.FileName(2, i, 5, Ddim4));
            using var image = Image.Load<L8>(png);
            Assert.Equal((32, 32), (image.Width, image.Height));
            var pixels = new L8[32 * 32];
            image.CopyPixelDataTo(pixels);
            var want = expected.AsSpan(i * 32 * 32, 32 * 32).ToArray().Select(PixelScale.ToByte);
            Assert.Equal(want, pixels.Select(p => p.PackedValue));
        }

        var lines = File.ReadAllLines(dir.Combine("manifest.csv"));
        Assert.Equal(Manifest.HeaderFor(sides: false, decoder: true), lines[0]);
        Assert.Contains(",model_sha256,decoder_sha256,provider", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.All(lines.Skip(1), l => Assert.EndsWith($",32,{TinyLatentModel.Sha256(latent.UNetPath)},{latent.DecoderSha256},cpu", l));
    }

    /// <summary>Pixel models' manifests keep their bytes: the decoder column exists only for latent models.</summary>
    [Fact]
    public void PixelManifestHeadersAreUnchanged()
    {
        Assert.Equal("file,grade,grade_name,index,seed,noise_stream,sampler,steps,eta,guidance,image_size,model_sha256,provider", Manifest.HeaderFor(sides: false, decoder: false));
        Assert.Equal("file,grade,grade_name,side,index,seed,noise_stream,sampler,steps,eta,guidance,image_size,model_sha256,provider", Manifest.HeaderFor(sides: true, decoder: false));
        Assert.Equal("file,grade,grade_name,side,index,seed,noise_stream,sampler,steps,eta,guidance,image_size,model_sha256,decoder_sha256,provider", Manifest.HeaderFor(sides: true, decoder: true));
    }

    [Fact]
    public void SameSeedGivesByteIdenticalFilesWhateverTheBatchOrHowTheModelIsNamed()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using var c = new TempDirectory();
        Assert.Equal(0, Run(Generate(latent.Folder, a.Path, "--grades", "0,3", "--per-grade", "3", "--batch", "3")).Code);
        Assert.Equal(0, Run(Generate(latent.Folder, b.Path, "--grades", "0,3", "--per-grade", "3", "--batch", "1")).Code);
        Assert.Equal(0, Run(Generate(latent.UNetPath, c.Path, "--grades", "0,3", "--per-grade", "3", "--batch", "2")).Code);
        var first = Files(a.Path);
        Assert.Equal(6, first.Count);
        Assert.Equal(first, Files(b.Path));
        Assert.Equal(first, Files(c.Path));
        Assert.Equal(File.ReadAllBytes(a.Combine("manifest.csv")), File.ReadAllBytes(b.Combine("manifest.csv")));
    }

    [Fact]
    public void SheetAndResizeWorkAtTheDecodersSize()
    {
        using var dir = new TempDirectory();
        string sheet = dir.Combine("sheet.png");
        var (code, _, err) = Run(Generate(latent.Folder, dir.Combine("out"), "--grades", "1", "--per-grade", "2", "--size", "48", "--sheet", sheet));
        Assert.True(code == 0, err);
        var reader = new GrayImageReader();
        Assert.All(Directory.GetFiles(dir.Combine("out", "1")), f => Assert.Equal((48, 48), reader.ReadSize(f)));
        // One row of two 96-pixel tiles (32² images are shown at least 96 wide) with 4-pixel gutters.
        Assert.Equal((2 * 96 + 3 * 4, 96 + 2 * 4), reader.ReadSize(sheet));
    }

    [Fact]
    public void GridDrawsDecodedImages()
    {
        using var dir = new TempDirectory();
        string sheet = dir.Combine("grid.png");
        var (code, _, err) = Run("grid", "--model", latent.Folder, "--provider", "cpu", "--steps", "2", "--per-grade", "2", "--grades", "0,4", "--out", sheet);
        Assert.True(code == 0, err);
        Assert.Equal((2 * 96 + 3 * 4, 2 * 96 + 3 * 4), new GrayImageReader().ReadSize(sheet));
        var (code2, _, err2) = Run("grid", "--model", latent.Folder, "--provider", "cpu", "--steps", "2", "--per-grade", "2", "--grades", "0", "--tile", "32", "--out", dir.Combine("small.png"));
        Assert.True(code2 == 0, err2);
        using var image = Image.Load<L8>(dir.Combine("small.png"));
        Assert.Equal((2 * 32 + 3 * 4, 32 + 2 * 4), (image.Width, image.Height));
    }

    [Fact]
    public void InfoReportsTheLatentFacts()
    {
        var (code, stdout, err) = Run("info", "--model", latent.Folder, "--provider", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains($"model: {latent.UNetPath}", stdout);
        Assert.Contains("4×8×8 latents → decoder → 1×32×32 images (factor 4), scale factor 200", stdout);
        Assert.Contains($"decoder: {Path.GetFullPath(latent.DecoderPath)}", stdout);
        Assert.Contains($"sha256 {latent.DecoderSha256[..16]}…", stdout);
        Assert.Contains("x̂₀ never clipped", stdout);
        Assert.Contains($"{ModelContract.Keys.Decoder} = {TinyLatentModel.DecoderRelative}", stdout);
    }

    [Fact]
    public void ClipOnIsRefusedOnALatentModel()
    {
        using var dir = new TempDirectory();
        string outDir = dir.Combine("out");
        var result = Run(Generate(latent.Folder, outDir, "--clip-x0", "on"));
        Refusal.Check(result, "--clip-x0 on");
        Assert.Contains(ModelContract.Keys.ClipSample, result.Err);
        Assert.Empty(Refusal.Tree(outDir));
        Assert.Equal(0, Run(Generate(latent.Folder, dir.Combine("off"), "--clip-x0", "off", "--per-grade", "1", "--grades", "0")).Code);
    }
}
