using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Runtime;

/// <summary>
/// Reads an ONNX file whole (bounded), hashes it, and opens a session on those very bytes, so the hash checked is the
/// graph that runs. Shared by the U-Net and its decoder; <c>label</c> starts every error line and <c>noun</c> names
/// the file ("model file", "decoder file").
/// </summary>
internal static class OnnxFile
{
    public static (byte[] Bytes, string Sha256) Read(string path, string label, string noun)
    {
        if (Directory.Exists(path)) throw new InvalidModelException($"{label}: {noun} is a folder, not an .onnx file");
        if (!File.Exists(path)) throw new InvalidModelException($"{label}: {noun} not found");
        long length = new FileInfo(path).Length;
        if (length == 0) throw new InvalidModelException($"{label}: {noun} is empty");
        if (length > KneeModel.MaxFileBytes) throw new InvalidModelException($"{label}: {noun} of {length} bytes is larger than the {KneeModel.MaxFileBytes} accepted");
        byte[] bytes = File.ReadAllBytes(path);
        return (bytes, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    public static InferenceSession Session(byte[] bytes, SessionOptions options, string label)
    {
        try
        {
            using (options)
                return new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidModelException($"{label}: not a loadable ONNX model ({FirstLine(e.Message)})", e);
        }
    }

    private static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? s;
}
