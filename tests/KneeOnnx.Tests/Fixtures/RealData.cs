namespace KneeOnnx.Tests.Fixtures;

/// <summary>
/// The real knee dataset (Chen 2018, CC BY 4.0), never copied into the repository: KNEEONNX_DATA if set, else
/// ../shared/data/kneeKL224 beside the repository root. Tests that need it are skipped, saying so, when it is absent.
/// </summary>
public static class RealData
{
    public const string Variable = "KNEEONNX_DATA";

    public static string? Root { get; } = Locate();

    private static string? Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(fromEnv)) return Directory.Exists(fromEnv) ? fromEnv : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KneeOnnx.sln")))
            {
                string candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "kneeKL224"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        return null;
    }
}

/// <summary>A fact that needs the real dataset; skipped with the reason when it is not found.</summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (RealData.Root is null)
            Skip = $"real dataset not found: set {RealData.Variable} or place it at ../shared/data/kneeKL224 beside the repository";
    }
}
