namespace KneeOnnx.IO;

/// <summary>
/// Remembers which of a command's output paths did not exist before it ran, so a command that fails can take back
/// the folders it created without writing anything into them (an empty run or report folder is a leftover that
/// makes the next attempt look like a resume). Only folders that hold no file at any depth are removed.
/// </summary>
public sealed class NewFolders
{
    private readonly List<string> _roots = [];

    /// <summary>
    /// Runs a command that names its output paths once it knows them (before it creates any); when it fails (a
    /// non-zero exit code), removes the folders it created and left empty. Both CLIs run every verb through this.
    /// </summary>
    public static int TakenBackOnFailure(Func<Action<IEnumerable<string?>>, int> command)
    {
        NewFolders? created = null;
        int code = command(outputs => created = Before(outputs));
        if (code != 0) created?.RemoveEmpty();
        return code;
    }

    /// <summary>For each path: its topmost ancestor (or itself) that does not exist yet.</summary>
    public static NewFolders Before(IEnumerable<string?> outputs)
    {
        var folders = new NewFolders();
        foreach (var output in outputs)
        {
            if (string.IsNullOrEmpty(output)) continue;
            string? missing = null;
            try
            {
                for (string? p = Path.GetFullPath(output); p is not null && !Path.Exists(p); p = Path.GetDirectoryName(p))
                    missing = p;
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or NotSupportedException)
            {
                continue; // a malformed path: the command refuses it before creating anything
            }
            if (missing is not null) folders._roots.Add(missing);
        }
        return folders;
    }

    /// <summary>Removes each remembered folder that now exists but holds only empty folders. Never throws.</summary>
    public void RemoveEmpty()
    {
        foreach (var root in _roots)
            RemoveIfEmpty(root);
    }

    /// <summary>Depth first, one empty folder at a time (never a recursive delete: a file that appears meanwhile stays).</summary>
    private static bool RemoveIfEmpty(string dir)
    {
        try
        {
            if (!Directory.Exists(dir) || new DirectoryInfo(dir).LinkTarget is not null) return false;
            bool empty = true;
            foreach (var sub in Directory.GetDirectories(dir))
                empty &= RemoveIfEmpty(sub);
            if (!empty || Directory.EnumerateFileSystemEntries(dir).Any()) return false;
            Directory.Delete(dir, recursive: false);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // best effort: the command's own error is what the user needs to see
        }
    }
}
