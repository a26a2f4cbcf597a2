using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace KneeOnnx.Runtime;

/// <summary>
/// An exported KneeOnnx model opened in one ONNX Runtime session, its metadata parsed and its signature checked; a
/// latent model also opens its decoder (<see cref="Decoder"/>), so a model is always something that makes images —
/// except a guide (<see cref="OpenGuide"/>), which only predicts noise for another model's sampling loop.
/// Loading reads only the graphs: ONNX files carry no executable code, and no custom-operator library is ever registered.
/// </summary>
public sealed class KneeModel : IDisposable
{
    /// <summary>Refuse files larger than this before reading them (the paper preset's model is about 460 MB).</summary>
    public const long MaxFileBytes = 2L << 30;
    /// <summary>Where a model folder (diffusers' ONNX pipeline layout) keeps its U-Net.</summary>
    public static readonly string FolderUNet = System.IO.Path.Combine("unet", AutoencoderContract.FileName);

    /// <summary>The U-Net file (FOLDER/unet/model.onnx when a folder was opened).</summary>
    public string Path { get; }
    /// <summary>SHA-256 of the U-Net file.</summary>
    public string Sha256 { get; }
    public ModelInfo Info { get; }
    public string Provider { get; }
    public string ProviderLine { get; }
    /// <summary>The settings the session was opened with.</summary>
    public RuntimeOptions Runtime { get; }
    /// <summary>A latent model's decoder, checked against the U-Net; null for a pixel model and for a guide (<see cref="OpenGuide"/>).</summary>
    public KneeDecoder? Decoder { get; }
    /// <summary>The decoder's metadata (its autoencoder, scale and shapes), kept when its session is not; null for a pixel model.</summary>
    public DecoderInfo? DecoderInfo { get; }
    /// <summary>SHA-256 of the decoder file, or null for a pixel model.</summary>
    public string? DecoderSha256 { get; }
    internal InferenceSession Session { get; }

    private KneeModel(string path, string sha, ModelInfo info, InferenceSession session, string provider, string line, RuntimeOptions runtime,
                      KneeDecoder? decoder, DecoderInfo? decoderInfo, string? decoderSha)
    {
        Runtime = runtime;
        Path = path;
        Sha256 = sha;
        Info = info;
        Session = session;
        Provider = provider;
        ProviderLine = line;
        Decoder = decoder;
        DecoderInfo = decoderInfo;
        DecoderSha256 = decoderSha;
    }

    /// <summary>The U-Net file a <c>--model</c> names: the file itself, or FOLDER/unet/model.onnx for a model folder.</summary>
    public static string Locate(string path)
    {
        if (!Directory.Exists(path)) return path;
        string unet = System.IO.Path.Combine(path, FolderUNet);
        return File.Exists(unet) ? unet
            : throw new InvalidModelException($"{path}: is a folder without {FolderUNet} (a model folder holds unet/, vae_decoder/ as diffusers' ONNX pipelines do)");
    }

    /// <summary>
    /// A model option as output guards see it: the U-Net file, and the model folder when a folder was named (a path of
    /// null where there is none, which the guards skip), so no output lands on the file or inside the folder.
    /// </summary>
    public static (Validation.OutputGuard.Input File, Validation.OutputGuard.Input Folder) GuardInputs(string option, string? path) =>
        path is null ? (new(option, null), new(option, null)) : (new(option, Locate(path)), new(option, Directory.Exists(path) ? path : null));

    /// <param name="path">an .onnx U-Net, or a model folder holding unet/model.onnx.</param>
    public static KneeModel Open(string path, RuntimeOptions? runtime = null) => Open(path, runtime, keepDecoder: true);

    /// <summary>
    /// Opens a model that only predicts noise for another one (autoguidance): a latent guide's decoder is checked as
    /// <see cref="Open(string, RuntimeOptions?)"/> checks it and its metadata kept for pairing, but its session is closed
    /// again, since the main model's decoder writes the images.
    /// </summary>
    public static KneeModel OpenGuide(string path, RuntimeOptions? runtime = null) => Open(path, runtime, keepDecoder: false);

    private static KneeModel Open(string path, RuntimeOptions? runtime, bool keepDecoder)
    {
        runtime ??= new RuntimeOptions();
        path = Locate(path);
        var (bytes, sha) = OnnxFile.Read(path, path, "model file");
        var (options, provider, line) = ProviderChoice.Create(runtime);
        var session = OnnxFile.Session(bytes, options, path);
        KneeDecoder? decoder = null;
        try
        {
            var info = ModelInfo.Parse(path, session.ModelMetadata.CustomMetadataMap);
            CheckSignature(path, session, info);
            // The decoder runs where the U-Net does: "auto" was settled once, with its line already written.
            if (info.IsLatent)
                decoder = KneeDecoder.Open(path, info, runtime with { Provider = provider == "cuda" ? ProviderRequest.Cuda : ProviderRequest.Cpu });
            var (decoderInfo, decoderSha) = (decoder?.Info, decoder?.Sha256);
            if (!keepDecoder)
            {
                decoder?.Dispose();
                decoder = null;
            }
            return new KneeModel(path, sha, info, session, provider, line, runtime, decoder, decoderInfo, decoderSha);
        }
        catch
        {
            decoder?.Dispose();
            session.Dispose();
            throw;
        }
    }

    private static void CheckSignature(string path, InferenceSession session, ModelInfo info)
    {
        var inputs = session.InputMetadata;
        void Expect(IReadOnlyDictionary<string, NodeMetadata> set, string name, TensorElementType type, int rank, string what)
        {
            if (!set.TryGetValue(name, out var m) || !m.IsTensor || m.ElementDataType != type || m.Dimensions.Length != rank)
                throw new InvalidModelException($"{path}: wrong signature: {what} must be a {type} tensor of rank {rank} named '{name}'");
        }
        Expect(inputs, ModelContract.SampleInput, TensorElementType.Float, 4, "input");
        Expect(inputs, ModelContract.TimestepInput, TensorElementType.Int64, 1, "input");
        if (info.IsConditional) Expect(inputs, ModelContract.GradeInput, TensorElementType.Int64, 1, "input");
        if (info.IsSideConditioned) Expect(inputs, ModelContract.SideInput, TensorElementType.Int64, 1, "input");
        else if (inputs.ContainsKey(ModelContract.SideInput))
            throw new InvalidModelException($"{path}: contradictory side metadata: the model has a '{ModelContract.SideInput}' input but no '{ModelContract.Keys.Sides}' metadata");
        int expectedInputs = 2 + (info.IsConditional ? 1 : 0) + (info.IsSideConditioned ? 1 : 0);
        if (inputs.Count != expectedInputs)
            throw new InvalidModelException($"{path}: wrong signature: {inputs.Count} inputs, expected {expectedInputs} for conditioning '{info.Conditioning}'{(info.IsSideConditioned ? " with sides" : "")}");
        Expect(session.OutputMetadata, ModelContract.NoiseOutput, TensorElementType.Float, 4, "output");
        var dims = inputs[ModelContract.SampleInput].Dimensions;
        if ((dims[1] > 0 && dims[1] != info.Channels) || (dims[2] > 0 && dims[2] != info.ImageSize) || (dims[3] > 0 && dims[3] != info.ImageSize))
            throw new InvalidModelException($"{path}: input shape [{string.Join(",", dims)}] contradicts metadata image size {info.ImageSize} and {info.Channels} channel(s)");
    }

    public void Dispose()
    {
        Decoder?.Dispose();
        Session.Dispose();
    }
}
