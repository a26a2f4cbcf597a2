using System.Globalization;
using System.Security.Cryptography;
using Google.Protobuf;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Onnx;
using static TorchSharp.torch;

namespace KneeOnnx.Tests.Fixtures;

/// <summary>
/// A tiny latent model in diffusers' folder layout, built once per test class: a 4×8² U-Net (the tiny preset, seeded
/// initial weights) and the tiny autoencoder's decoder (4×8² → 32², f = 4), the U-Net's metadata naming the decoder
/// by relative path and real SHA-256. Untrained weights are enough here: the tests check plumbing and contracts, and
/// compare against the same graphs run independently.
/// </summary>
public class TinyLatentModel : IDisposable
{
    public const int LatentChannels = 4, LatentSize = 8, OutputSize = 32;
    public const string DecoderRelative = "../vae_decoder/model.onnx";

    private readonly TempDirectory _dir = new();

    /// <summary>FOLDER holding unet/model.onnx and vae_decoder/model.onnx.</summary>
    public string Folder { get; }
    public string UNetPath => System.IO.Path.Combine(Folder, "unet", "model.onnx");
    public string DecoderPath => System.IO.Path.Combine(Folder, "vae_decoder", "model.onnx");
    public string DecoderSha256 { get; }
    public ModelProto UNet { get; }
    public ModelProto Decoder { get; }

    public TinyLatentModel()
    {
        manual_seed(21);
        var config = Presets.Get(Presets.Tiny) with { Channels = LatentChannels, ImageSize = LatentSize };
        config.Validate();
        var state = new TrainState
        {
            Step = 0, ElapsedSeconds = 0, DatasetSha256 = "latent-fixture", Model = config,
            Train = new TrainConfig { Data = "memory", Preset = Presets.Tiny, Seed = 21 },
        };
        using (var unet = new UNet(config))
        {
            unet.eval();
            UNet = OnnxExporter.Build(unet, state, "ema");
        }

        var aeConfig = AutoencoderPresets.Get(AutoencoderPresets.Tiny);
        var aeState = new AutoencoderState
        {
            Step = 0, ElapsedSeconds = 0, DatasetSha256 = "latent-fixture", Model = aeConfig,
            Train = new AutoencoderTrainConfig { Data = "memory", Preset = AutoencoderPresets.Tiny, Seed = 21 },
        };
        using (var autoencoder = new KneeAutoencoder(aeConfig))
        {
            autoencoder.eval();
            Decoder = AutoencoderExporter.Decoder(autoencoder, aeState, Scale, "tiny-autoencoder").Proto;
        }
        Folder = WriteFolder("model", UNet, Decoder);
        DecoderSha256 = Sha256(DecoderPath);
    }

    /// <summary>
    /// The scale the decoder divides by. The untrained U-Net's final latents are hundreds wide (its ε̂ explains none of
    /// the sample); dividing by 200 keeps the decoder's input near unit size, so its images are not mostly saturated.
    /// </summary>
    public const float Scale = 200f;

    /// <summary>
    /// Writes a model folder from changed copies of the two graphs. The U-Net's latent metadata points at the decoder
    /// written beside it, with that file's real SHA-256, before <paramref name="unet"/> runs (so it can break them).
    /// </summary>
    public string WriteVariant(string name, Action<ModelProto>? unet = null, Action<ModelProto>? decoder = null, bool withDecoder = true)
    {
        var u = UNet.Clone();
        var d = Decoder.Clone();
        decoder?.Invoke(d);
        return WriteFolder(name, u, withDecoder ? d : null, unet);
    }

    private string WriteFolder(string name, ModelProto unet, ModelProto? decoder, Action<ModelProto>? change = null)
    {
        string folder = _dir.Combine(name);
        Directory.CreateDirectory(System.IO.Path.Combine(folder, "unet"));
        byte[] decoderBytes = (decoder ?? Decoder).ToByteArray();
        if (decoder is not null)
        {
            Directory.CreateDirectory(System.IO.Path.Combine(folder, "vae_decoder"));
            File.WriteAllBytes(System.IO.Path.Combine(folder, "vae_decoder", "model.onnx"), decoderBytes);
        }
        SetLatentMetadata(unet, Convert.ToHexStringLower(SHA256.HashData(decoderBytes)));
        change?.Invoke(unet);
        File.WriteAllBytes(System.IO.Path.Combine(folder, "unet", "model.onnx"), unet.ToByteArray());
        return folder;
    }

    private static void SetLatentMetadata(ModelProto unet, string decoderSha)
    {
        OnnxExporter.SetMetadata(unet, ModelContract.Keys.Decoder, DecoderRelative);
        OnnxExporter.SetMetadata(unet, ModelContract.Keys.DecoderSha256, decoderSha);
        OnnxExporter.SetMetadata(unet, ModelContract.Keys.OutputImageSize, OutputSize.ToString(CultureInfo.InvariantCulture));
        OnnxExporter.SetMetadata(unet, ModelContract.Keys.ClipSample, "false");
    }

    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }
}
