using System.Text.Json;
using KneeOnnx.IO;

namespace KneeOnnx.Training.Reports;

/// <summary>
/// How the report files (report.json, augment.json, bench.json) are written and read back: camelCase keys, indented,
/// and on reading every <c>required</c> key present and non-nullable values non-null, so a wrong-shaped file fails
/// here in one line naming it, not later as a null reference deep in a renderer.
/// </summary>
public static class ReportJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static void Write<T>(string path, T value) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, Options));

    /// <param name="what">what the file should be, in words, for the error ("an evaluation report").</param>
    public static T Read<T>(string path, string what) where T : class
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found", path);
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options) ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not {what} ({FirstLine(e.Message)})", e);
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
