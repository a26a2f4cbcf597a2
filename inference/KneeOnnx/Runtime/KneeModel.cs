using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace KneeOnnx.Runtime;

/// <summary>
/// An exported KneeOnnx model opened in one ONNX Runtime session, its metadata parsed and its signature checked.
/// Loading reads only the graph: ONNX files carry no executable code, and no custom-operator library is ever registered.
/// </summary>
public sealed class KneeModel : IDisposable
{
    /// <summary>Refuse files larger than this before reading them (the paper preset's model is about 460 MB).</summary>
    public const long MaxFileBytes = 2L << 30;

    public string Path { get; }
    public string Sha256 { get; }
    public ModelInfo Info { get; }
    public string Provider { get; }
    public string ProviderLine { get; }
    /// <summary>The settings the session was opened with.</summary>
    public RuntimeOptions Runtime { get; }
    internal InferenceSession Session { get; }

    private KneeModel(string path, string sha, ModelInfo info, InferenceSession session, string provider, string line, RuntimeOptions runtime)
    {
        Runtime = runtime;
        Path = path;
        Sha256 = sha;
        Info = info;
        Session = session;
        Provider = provider;
        ProviderLine = line;
    }

    public static KneeModel Open(string path, RuntimeOptions? runtime = null)
    {
        runtime ??= new RuntimeOptions();
        if (Directory.Exists(path)) throw new InvalidModelException($"{path}: is a folder, not an .onnx model file");
        if (!File.Exists(path)) throw new InvalidModelException($"{path}: model file not found");
        long length = new FileInfo(path).Length;
        if (length == 0) throw new InvalidModelException($"{path}: model file is empty");
        if (length > MaxFileBytes) throw new InvalidModelException($"{path}: model file of {length} bytes is larger than the {MaxFileBytes} accepted");

        byte[] bytes = File.ReadAllBytes(path);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var (options, provider, line) = ProviderChoice.Create(runtime);
        InferenceSession session;
        try
        {
            using (options)
                session = new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidModelException($"{path}: not a loadable ONNX model ({FirstLine(e.Message)})", e);
        }
        try
        {
            var info = ModelInfo.Parse(path, session.ModelMetadata.CustomMetadataMap);
            CheckSignature(path, session, info);
            return new KneeModel(path, sha, info, session, provider, line, runtime);
        }
        catch
        {
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

    private static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? s;

    public void Dispose() => Session.Dispose();
}
