namespace KneeOnnx.Tests.Fixtures;

/// <summary>Every PNG under a folder by its relative path, with its bytes: what "the same images" means in the resume and determinism tests.</summary>
public static class PngFiles
{
    public static Dictionary<string, byte[]> Under(string dir) =>
        Directory.GetFiles(dir, "*.png", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);
}
