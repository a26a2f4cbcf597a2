namespace KneeOnnx.Cli;

/// <summary>
/// Finds the shipped default model: $KNEEONNX_MODEL, else the model folder models/kneeonnx-default/ (a latent model:
/// unet/, vae_decoder/) or the single file models/kneeonnx-default.onnx (the pixel models before v4), here or above the
/// program.
/// </summary>
public static class DefaultModel
{
    public const string FolderName = "kneeonnx-default";
    public const string FileName = "kneeonnx-default.onnx";
    public const string Variable = "KNEEONNX_MODEL";

    public static string Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        var roots = new List<string> { Environment.CurrentDirectory };
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            roots.Add(dir.FullName);
        return Locate(roots);
    }

    /// <summary>The first root (in order) holding models/kneeonnx-default/ or models/kneeonnx-default.onnx; the folder wins within a root.</summary>
    public static string Locate(IEnumerable<string> roots)
    {
        foreach (string root in roots)
        {
            string folder = Path.Combine(root, "models", FolderName);
            if (File.Exists(Path.Combine(folder, "unet", "model.onnx"))) return folder;
            string file = Path.Combine(root, "models", FileName);
            if (File.Exists(file)) return file;
        }
        throw new ArgumentException($"no --model given and no shipped default found (looked for models/{FolderName}/ and models/{FileName}; set {Variable} or pass --model)");
    }
}
