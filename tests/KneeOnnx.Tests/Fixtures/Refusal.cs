namespace KneeOnnx.Tests.Fixtures;

/// <summary>What every refused command must look like: exit code 2, exactly one "error: " line naming the culprit, no stack trace.</summary>
public static class Refusal
{
    public const int BadInput = 2;

    public static void Check(InProcessCli.Result result, string expected)
    {
        Assert.True(result.Code == BadInput, $"exit {result.Code}, expected {BadInput}; stderr: {result.Err}");
        string err = result.Err.Trim();
        Assert.Single(err.Split('\n'));
        Assert.StartsWith("error: ", err);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("   at ", err);
    }

    /// <summary>Names of everything below <paramref name="root"/>, to show a refused command created nothing.</summary>
    public static string[] Tree(string root) =>
        Directory.Exists(root) ? Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories).Order().ToArray() : [];
}
