using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// A latent model whose parts do not fit is refused in one line naming both files: a decoder missing, of another
/// hash, or saying other shapes than the U-Net; and U-Net latent metadata that contradicts itself, naming the key.
/// </summary>
public class LatentRefusalTests(TinyLatentModel latent) : IClassFixture<TinyLatentModel>
{
    private static void AssertRefused(string model, string outDir, params string[] expected)
    {
        var result = InProcessCli.Generate("generate", "--model", model, "--provider", "cpu", "--steps", "2", "--out", outDir);
        Refusal.Check(result, expected[0]);
        foreach (string part in expected.Skip(1)) Assert.Contains(part, result.Err);
        Assert.Empty(Refusal.Tree(outDir));
    }

    private static string UNetOf(string folder) => Path.Combine(folder, "unet", "model.onnx");
    private static string DecoderOf(string folder) => Path.GetFullPath(Path.Combine(folder, "vae_decoder", "model.onnx"));

    [Fact]
    public void MissingDecoderNamesBothFiles()
    {
        using var dir = new TempDirectory();
        string folder = latent.WriteVariant("no-decoder", withDecoder: false);
        AssertRefused(folder, dir.Combine("o"), UNetOf(folder), DecoderOf(folder), "file not found", TinyLatentModel.DecoderRelative);
    }

    [Fact]
    public void DecoderOfAnotherHashNamesBothFilesAndBothHashes()
    {
        using var dir = new TempDirectory();
        string wrong = new('0', 64);
        string folder = latent.WriteVariant("wrong-hash", unet: m => TinyOnnxModel.SetMeta(m, ModelContract.Keys.DecoderSha256, wrong));
        AssertRefused(folder, dir.Combine("o"), UNetOf(folder), DecoderOf(folder), wrong, TinyLatentModel.Sha256(DecoderOf(folder)), "do not belong together");
    }

    /// <summary>Metadata changes as "key=value;key=value", and the refusal expected.</summary>
    public static TheoryData<string, string> ContradictingDecoders() => new()
    {
        { $"{AutoencoderContract.Keys.LatentChannels}=3", "takes latents of 3×8², but the U-Net makes 4×8²" },
        { $"{AutoencoderContract.Keys.LatentSize}=16;{AutoencoderContract.Keys.Factor}=2", "takes latents of 4×16², but the U-Net makes 4×8²" },
        { $"{ModelContract.Keys.ImageSize}=64;{AutoencoderContract.Keys.Factor}=8", "writes 64² images, but the U-Net's 'kneeonnx.output_image_size' is 32" },
        { $"{AutoencoderContract.Keys.Factor}=2", "'kneeonnx.factor' = '2' contradicts 32 / 8" },
        { $"{AutoencoderContract.Keys.Part}={AutoencoderContract.EncoderPart}", "'kneeonnx.part' = 'vae_encoder' (expected vae_decoder)" },
        { $"{AutoencoderContract.Keys.ScaleFactor}=-1", "is not a positive number" },
        { $"{ModelContract.Keys.FormatVersion}=2", "decoder format 2" },
    };

    /// <summary>The decoder's hash is right (the U-Net records it), so it is its metadata that is checked and refused.</summary>
    [Theory]
    [MemberData(nameof(ContradictingDecoders))]
    public void DecoderMetadataContradictingTheU_NetNamesBothFiles(string changes, string expected)
    {
        using var dir = new TempDirectory();
        string folder = latent.WriteVariant("decoder-" + Guid.NewGuid().ToString("N")[..8], decoder: m =>
        {
            foreach (var change in changes.Split(';'))
                TinyOnnxModel.SetMeta(m, change.Split('=')[0], change.Split('=')[1]);
        });
        AssertRefused(folder, dir.Combine("o"), expected, UNetOf(folder), DecoderOf(folder));
    }

    [Fact]
    public void DecoderWithTheWrongSignatureNamesBothFiles()
    {
        using var dir = new TempDirectory();
        string folder = latent.WriteVariant("renamed-output", decoder: m =>
        {
            m.Graph.Output[0].Name = "pixels";
            foreach (var node in m.Graph.Node)
                for (int i = 0; i < node.Output.Count; i++)
                    if (node.Output[i] == AutoencoderContract.ImageName) node.Output[i] = "pixels";
        });
        AssertRefused(folder, dir.Combine("o"), "wrong signature", UNetOf(folder), DecoderOf(folder));
    }

    public static TheoryData<string, string?, string> ContradictingU_NetMetadata() => new()
    {
        { ModelContract.Keys.DecoderSha256, null, "'kneeonnx.decoder' without 'kneeonnx.decoder_sha256'" },
        { ModelContract.Keys.OutputImageSize, null, "'kneeonnx.decoder' without 'kneeonnx.output_image_size'" },
        { ModelContract.Keys.DecoderSha256, "XYZ", "'kneeonnx.decoder_sha256' = 'XYZ' is not a lowercase hex SHA-256" },
        { ModelContract.Keys.DecoderSha256, new string('A', 64), "is not a lowercase hex SHA-256" },
        { ModelContract.Keys.OutputImageSize, "36", "'kneeonnx.output_image_size' = '36' is not a multiple of the latent size 8" },
        { ModelContract.Keys.OutputImageSize, "4", "is not a multiple of the latent size 8" },
        { ModelContract.Keys.OutputImageSize, "abc", "'kneeonnx.output_image_size' = 'abc'" },
        { ModelContract.Keys.Decoder, "/etc/vae.onnx", "'kneeonnx.decoder' = '/etc/vae.onnx' is not a relative file path" },
        { ModelContract.Keys.Decoder, " ", "is not a relative file path" },
        { ModelContract.Keys.ClipSample, "true", "'kneeonnx.clip_sample' = 'true' on a latent model" },
        { ModelContract.Keys.ClipSample, "maybe", "'kneeonnx.clip_sample' = 'maybe' is not true or false" },
        { ModelContract.Keys.Channels, "65", "'kneeonnx.channels' = '65' is not an integer in 1..64" },
    };

    [Theory]
    [MemberData(nameof(ContradictingU_NetMetadata))]
    public void ContradictoryLatentMetadataNamesTheFileAndKey(string key, string? value, string expected)
    {
        using var dir = new TempDirectory();
        string folder = latent.WriteVariant("unet-" + Guid.NewGuid().ToString("N")[..8], unet: m =>
        {
            if (value is null) m.MetadataProps.Remove(m.MetadataProps.Single(p => p.Key == key));
            else TinyOnnxModel.SetMeta(m, key, value);
        });
        AssertRefused(folder, dir.Combine("o"), expected, UNetOf(folder));
    }

    [Fact]
    public void LatentChannelsWithoutADecoderAreRefused()
    {
        using var dir = new TempDirectory();
        string folder = latent.WriteVariant("pixel-claim", unet: m =>
        {
            foreach (string key in new[] { ModelContract.Keys.Decoder, ModelContract.Keys.DecoderSha256, ModelContract.Keys.OutputImageSize, ModelContract.Keys.ClipSample })
                m.MetadataProps.Remove(m.MetadataProps.Single(p => p.Key == key));
        });
        AssertRefused(folder, dir.Combine("o"), "'kneeonnx.channels' = 4 needs a decoder", UNetOf(folder));
        string stray = latent.WriteVariant("stray-size", unet: m => m.MetadataProps.Remove(m.MetadataProps.Single(p => p.Key == ModelContract.Keys.Decoder)));
        AssertRefused(stray, dir.Combine("o"), "'kneeonnx.decoder_sha256' without 'kneeonnx.decoder'", UNetOf(stray));
    }

    [Fact]
    public void FolderWithoutAU_NetIsRefused()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("empty-model"));
        AssertRefused(dir.Combine("empty-model"), dir.Combine("o"), "empty-model: is a folder without unet/model.onnx");
        var info = InProcessCli.Generate("info", "--model", dir.Combine("empty-model"));
        Refusal.Check(info, "is a folder without unet/model.onnx");
    }

    [Fact]
    public void OutputInsideTheModelFolderIsRefused()
    {
        using var dir = new TempDirectory();
        string folder = latent.WriteVariant("guarded");
        var before = Refusal.Tree(folder);
        var result = InProcessCli.Generate("generate", "--model", folder, "--provider", "cpu", "--out", Path.Combine(folder, "images"));
        Refusal.Check(result, "is inside the command's input --model");
        Assert.Equal(before, Refusal.Tree(folder));
    }
}
