namespace KneeOnnx.Cli;

/// <summary>Finds the shipped default model: $KNEEONNX_MODEL, else models/kneeonnx-default.onnx here or above the program.</summary>
public static class DefaultModel
{
    public const string FileName = "kneeonnx-default.onnx";
    public const string Variable = "KNEEONNX_MODEL";

    public static string Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        var candidates = new List<string> { Path.Combine(Environment.CurrentDirectory, "models", FileName) };
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            candidates.Add(Path.Combine(dir.FullName, "models", FileName));
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new ArgumentException($"no --model given and no shipped default found (looked for models/{FileName}; set {Variable} or pass --model)");
    }
}
