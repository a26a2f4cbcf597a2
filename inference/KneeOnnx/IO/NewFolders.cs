namespace KneeOnnx.IO;

/// <summary>
/// Remembers which of a command's output paths did not exist before it ran, so a command that fails can take back
/// the folders it created without writing anything into them (an empty run or report folder is a leftover that
/// makes the next attempt look like a resume). Only folders that hold no file at any depth are removed, and only on the
/// way to the command's own outputs: commands run side by side under a parent folder that neither found (one process
/// per grade on a GPU box) each created part of it, and one that fails must not take back another's empty grade folders.
/// </summary>
public sealed class NewFolders
{
    private readonly List<(string Root, string Output)> _created = [];

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
            if (missing is not null) folders._created.Add((missing, Path.GetFullPath(output)));
        }
        return folders;
    }

    /// <summary>
    /// Removes each output that now exists but holds only empty folders, then each created ancestor of it, nearest first,
    /// while that ancestor is empty. Never throws.
    /// </summary>
    public void RemoveEmpty()
    {
        foreach (var (root, output) in _created)
        {
            if (!RemoveIfEmpty(output) && Path.Exists(output)) continue;
            for (string? dir = Path.GetDirectoryName(output); dir is not null && dir.Length >= root.Length; dir = Path.GetDirectoryName(dir))
                if (!RemoveIfEmpty(dir, descend: false) && Path.Exists(dir)) break;
        }
    }

    /// <summary>Depth first, one empty folder at a time (never a recursive delete: a file that appears meanwhile stays).</summary>
    private static bool RemoveIfEmpty(string dir, bool descend = true)
    {
        try
        {
            if (!Directory.Exists(dir) || new DirectoryInfo(dir).LinkTarget is not null) return false;
            bool empty = true;
            if (descend)
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
