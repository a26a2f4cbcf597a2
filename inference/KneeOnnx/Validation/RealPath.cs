namespace KneeOnnx.Validation;

/// <summary>
/// A path with every symbolic link along it resolved, so two spellings of one file compare equal
/// ("run/checkpoint.ckpt", "link-to-run/./checkpoint.ckpt"). Components that do not exist yet are kept as written.
/// </summary>
public static class RealPath
{
    private const int MaxLinks = 40; // as Linux's own limit on links followed in one lookup

    public static string Of(string path)
    {
        string full = Path.GetFullPath(path);
        for (int links = 0; links < MaxLinks; links++)
        {
            string? resolved = ResolveFirstLink(full);
            if (resolved is null) return Trim(full);
            full = resolved;
        }
        return Trim(full); // a loop: compare as written; opening it will fail with its own message
    }

    /// <summary>Whether <paramref name="inner"/> is <paramref name="outer"/> or lies somewhere below it (both real paths).</summary>
    public static bool IsSameOrInside(string inner, string outer)
    {
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (string.Equals(inner, outer, comparison)) return true;
        string prefix = outer.EndsWith(Path.DirectorySeparatorChar) ? outer : outer + Path.DirectorySeparatorChar;
        return inner.StartsWith(prefix, comparison);
    }

    public static bool Same(string a, string b) =>
        string.Equals(a, b, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>The path with its first symbolic link component replaced by that link's target; null when none is a link.</summary>
    private static string? ResolveFirstLink(string full)
    {
        string root = Path.GetPathRoot(full) ?? "/";
        string current = root;
        var parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            current = Path.Combine(current, parts[i]);
            FileSystemInfo info = new FileInfo(current);
            string? target;
            try
            {
                target = info.LinkTarget;
            }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
            if (target is null) continue;
            string targetFull = Path.GetFullPath(target, Path.GetDirectoryName(current) ?? root);
            return Path.Combine([targetFull, .. parts[(i + 1)..]]);
        }
        return null;
    }

    private static string Trim(string full) =>
        full.Length > 1 && full.EndsWith(Path.DirectorySeparatorChar) ? full.TrimEnd(Path.DirectorySeparatorChar) : full;
}
