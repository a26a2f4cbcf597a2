using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace KneeOnnx.Training.Runs;

/// <summary>
/// Reads <c>train --config FILE</c>: a JSON object of <see cref="TrainConfig"/> keys (any letter case). A misspelt key
/// would otherwise be ignored and train with a default nobody asked for, so unknown keys, wrong types and
/// out-of-range values are each refused in one line naming the file and the key, with the options' own rules
/// (<see cref="TrainConfig.Validate"/>). Every key is optional: the command line may give Data and Preset.
/// </summary>
public static class TrainConfigFile
{
    /// <summary>The settable keys, as written in the file; InitFromSha256 and InitFromSteps are recorded by a run, never chosen.</summary>
    public static IReadOnlyList<string> Keys { get; } = typeof(TrainConfig).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.SetMethod is not null && p.Name is not (nameof(TrainConfig.InitFromSha256) or nameof(TrainConfig.InitFromSteps) or nameof(TrainConfig.DecoderSha256) or nameof(TrainConfig.EncoderSha256))).Select(p => p.Name).ToArray();

    /// <summary><paramref name="baseline"/> with the keys the file gives (and only those) set to the file's values.</summary>
    public static TrainConfig OverlayKeys(string path, TrainConfig baseline)
    {
        var file = Read(path);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        object result = baseline with { };
        foreach (var property in document.RootElement.EnumerateObject())
        {
            var info = typeof(TrainConfig).GetProperty(Keys.First(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase)))!;
            info.SetValue(result, info.GetValue(file));
        }
        return (TrainConfig)result;
    }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        RespectNullableAnnotations = true,
        // Data and Preset are required of a finished config, not of a file: the command line may supply them.
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { info => { foreach (var p in info.Properties) p.IsRequired = false; } } },
    };

    /// <returns>the file's settings; Data and Preset are null when the file leaves them to the command line.</returns>
    public static TrainConfig Read(string path)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"{path}: --config is a folder, not a JSON file");
        if (!File.Exists(path)) throw new ArgumentException($"{path}: --config file not found");
        KneeOnnx.Validation.FileTypes.RequireRegularInput(path, "--config");
        string text = File.ReadAllText(path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path}: not valid JSON ({FirstLine(e.Message)})", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ArgumentException($"{path}: must be a JSON object of training settings ({{\"Steps\": 1000, ...}}), not {Describe(document.RootElement.ValueKind)}");
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!Keys.Contains(property.Name, StringComparer.OrdinalIgnoreCase))
                    throw new ArgumentException($"{path}: unknown key '{property.Name}' (known keys: {string.Join(", ", Keys)})");
                // Keys are read in any letter case, so "Steps" and "steps" are one setting given twice; the last would win silently.
                if (!seen.Add(property.Name))
                    throw new ArgumentException($"{path}: key '{property.Name}' is given more than once; keep one");
            }
        }
        TrainConfig config;
        try
        {
            config = JsonSerializer.Deserialize<TrainConfig>(text, Options)!;
        }
        catch (JsonException e)
        {
            string key = e.Path is { Length: > 2 } p && p.StartsWith("$.") ? p[2..] : e.Path ?? "?";
            throw new ArgumentException($"{path}: key '{key}' has the wrong type or value ({FirstLine(e.Message)})", e);
        }
        // The option rules, naming the file and key; Data and Preset may be left to the command line.
        (config with { Data = config.Data ?? "", Preset = config.Preset ?? Model.Presets.Small }).Validate((_, key) => $"{path}: key '{key}'");
        return config;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Null => "null",
        _ => "a " + kind.ToString().ToLowerInvariant(),
    };

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
