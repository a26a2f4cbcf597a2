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

    /// <summary>
    /// Runs a command (<paramref name="cli"/> "train" or the inference CLI) with "{0}" in its arguments standing for
    /// <paramref name="root"/>, and checks it was refused with <paramref name="expected"/> and left every file and name there as it was.
    /// </summary>
    public static void CheckRefusedLeavingTreeUnchanged(string root, string cli, IEnumerable<string> args, string expected)
    {
        var before = Tree(root).Where(File.Exists).ToDictionary(f => f, File.ReadAllBytes);
        var names = Tree(root);
        string[] resolved = [.. args.Select(a => a.Replace("{0}", root))];
        var result = cli == "train" ? InProcessCli.Train(resolved) : InProcessCli.Generate(resolved);
        Check(result, expected.Replace("{0}", root));
        Assert.Equal(names, Tree(root));
        foreach (var (file, bytes) in before)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(file)), $"{file} changed");
    }

    /// <summary>Names of everything below <paramref name="root"/>, to show a refused command created nothing.</summary>
    public static string[] Tree(string root) =>
        Directory.Exists(root) ? Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories).Order().ToArray() : [];
}
