using System.Globalization;
using System.Security.Cryptography;
using KneeOnnx.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>
/// An exported autoencoder folder (<c>vae_encoder/model.onnx</c>, <c>vae_decoder/model.onnx</c>) as the latent trainer
/// and exporter see it: both files' hashes and the facts their metadata agree on. A pair whose parts were exported from
/// different weights, or that disagree on the latent shape, is refused naming both files.
/// </summary>
public sealed record AutoencoderFiles
{
    public required string Folder { get; init; }
    public required string EncoderPath { get; init; }
    public required string DecoderPath { get; init; }
    public required string EncoderSha256 { get; init; }
    public required string DecoderSha256 { get; init; }
    public required int ImageSize { get; init; }
    public required int LatentChannels { get; init; }
    public required int LatentSize { get; init; }
    public required float ScaleFactor { get; init; }
    /// <summary>The pair's identity both parts carry (<c>kneeonnx.autoencoder_sha256</c>): the checkpoint the encoder came from.</summary>
    public required string PairSha256 { get; init; }
    /// <summary>The configuration the pair was exported from (its metadata), so its weights can be loaded back into TorchSharp.</summary>
    public required AutoencoderConfig Config { get; init; }

    /// <summary>Both parts' weights loaded into a new TorchSharp autoencoder (to continue training a committed export).</summary>
    public KneeAutoencoder LoadWeights()
    {
        var model = new KneeAutoencoder(Config);
        var tensors = new[] { EncoderPath, DecoderPath }.SelectMany(p => Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(p)).Graph.Initializer);
        Export.OnnxWeightImporter.LoadInto(tensors, model, Folder);
        return model;
    }

    public static AutoencoderFiles Open(string folder, string option = "--autoencoder")
    {
        if (!Directory.Exists(folder)) throw new ArgumentException($"{option} {folder}: not a folder (expected the export-autoencoder folder holding vae_encoder/ and vae_decoder/)");
        string encoder = Path.Combine(folder, AutoencoderContract.EncoderPart, AutoencoderContract.FileName);
        string decoder = Path.Combine(folder, AutoencoderContract.DecoderPart, AutoencoderContract.FileName);
        foreach (var f in new[] { encoder, decoder })
            if (!File.Exists(f)) throw new ArgumentException($"{option} {folder}: {f} is missing");
        var e = Metadata(encoder);
        var d = Metadata(decoder);
        string Get(Dictionary<string, string> m, string path, string key) =>
            m.TryGetValue(key, out var v) ? v : throw new ArgumentException($"{path}: not a KneeOnnx autoencoder part (metadata '{key}' missing)");
        if (Get(e, encoder, AutoencoderContract.Keys.Part) != AutoencoderContract.EncoderPart)
            throw new ArgumentException($"{encoder}: is not an encoder (metadata {AutoencoderContract.Keys.Part} = {e[AutoencoderContract.Keys.Part]})");
        if (Get(d, decoder, AutoencoderContract.Keys.Part) != AutoencoderContract.DecoderPart)
            throw new ArgumentException($"{decoder}: is not a decoder (metadata {AutoencoderContract.Keys.Part} = {d[AutoencoderContract.Keys.Part]})");
        foreach (var key in new[] { AutoencoderContract.Keys.AutoencoderSha256, AutoencoderContract.Keys.ScaleFactor, AutoencoderContract.Keys.LatentChannels,
                                    AutoencoderContract.Keys.LatentSize, ModelContract.Keys.ImageSize })
            if (Get(e, encoder, key) != Get(d, decoder, key))
                throw new ArgumentException($"{encoder} and {decoder} are not a pair: {key} is {e[key]} in one and {d[key]} in the other");
        var config = ReadConfig(d, decoder);
        // A decoder trained behind a kept encoder may have its own shape; everything that fixes the latents must agree.
        if (System.Text.Json.JsonSerializer.Serialize(ReadConfig(e, encoder).EncoderSide) != System.Text.Json.JsonSerializer.Serialize(config.EncoderSide))
            throw new ArgumentException($"{encoder} and {decoder} are not a pair: {AutoencoderContract.Keys.AutoencoderConfig} is {e[AutoencoderContract.Keys.AutoencoderConfig]} in one and {d[AutoencoderContract.Keys.AutoencoderConfig]} in the other");
        int Int(string key) => int.Parse(d[key], CultureInfo.InvariantCulture);
        return new AutoencoderFiles
        {
            Folder = Path.GetFullPath(folder), EncoderPath = Path.GetFullPath(encoder), DecoderPath = Path.GetFullPath(decoder),
            EncoderSha256 = Sha256(encoder), DecoderSha256 = Sha256(decoder),
            ImageSize = Int(ModelContract.Keys.ImageSize), LatentChannels = Int(AutoencoderContract.Keys.LatentChannels), LatentSize = Int(AutoencoderContract.Keys.LatentSize),
            ScaleFactor = float.Parse(d[AutoencoderContract.Keys.ScaleFactor], CultureInfo.InvariantCulture),
            PairSha256 = d[AutoencoderContract.Keys.AutoencoderSha256],
            Config = config,
        };

        static AutoencoderConfig ReadConfig(Dictionary<string, string> meta, string path)
        {
            string json = meta.TryGetValue(AutoencoderContract.Keys.AutoencoderConfig, out var v) ? v
                : throw new ArgumentException($"{path}: not a KneeOnnx autoencoder part (metadata '{AutoencoderContract.Keys.AutoencoderConfig}' missing)");
            try
            {
                return System.Text.Json.JsonSerializer.Deserialize<AutoencoderConfig>(json) ?? throw new ArgumentException($"{path}: empty {AutoencoderContract.Keys.AutoencoderConfig}");
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new ArgumentException($"{path}: metadata '{AutoencoderContract.Keys.AutoencoderConfig}' is not an autoencoder configuration ({ex.Message.Split('\n')[0]})", ex);
            }
        }
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static Dictionary<string, string> Metadata(string path)
    {
        try
        {
            using var session = new InferenceSession(path);
            return new Dictionary<string, string>(session.ModelMetadata.CustomMetadataMap);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ArgumentException($"{path}: not a loadable ONNX model ({ex.Message.Split('\n')[0]})", ex);
        }
    }
}
