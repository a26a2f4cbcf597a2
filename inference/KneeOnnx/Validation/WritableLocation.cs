namespace KneeOnnx.Validation;

/// <summary>
/// Whether an output could be created at all, asked before a command does any work: a run folder under a file, or a
/// report in a read-only place, used to be found only when the first file was written, after the training or
/// generation was done. The answer comes from the file system itself (a check file created and removed in the nearest
/// existing folder), since permission bits say nothing to root and nothing about a read-only mount.
/// </summary>
public static class WritableLocation
{
    /// <summary>Refuses when <paramref name="folder"/> could not be created or written into.</summary>
    /// <param name="output">the output as the user gave it (the folder itself, or a file to be written in it), for the error line.</param>
    public static void RequireFolder(string folder, string option, string output)
    {
        string existing = Path.GetFullPath(folder);
        while (!Path.Exists(existing))
        {
            string? parent = Path.GetDirectoryName(existing);
            if (parent is null) return; // nothing on the path exists, not even its root: creating it reports its own error
            existing = parent;
        }
        if (!Directory.Exists(existing))
            throw new ArgumentException($"{output}: {option} cannot be created: {existing} is {FileTypes.Describe(FileTypes.Of(existing))}, not a folder");
        string? reason = WhyNotWritable(existing);
        if (reason is not null)
            throw new ArgumentException($"{output}: {option} cannot be written: {existing} {reason}");
    }

    /// <summary>Null when a new file can be made in <paramref name="folder"/>; otherwise why not, in words.</summary>
    private static string? WhyNotWritable(string folder)
    {
        string check = Path.Combine(folder, $".kneeonnx-write-check.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            using var stream = new FileStream(check, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return "is not writable (permission denied)";
        }
        catch (IOException e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return "accepts no new files"; // e.g. /proc
        }
        catch (IOException e)
        {
            // .NET appends " : 'PATH'" (here the check file's name, which would only confuse) to the system's reason.
            string message = e.Message;
            int path = message.IndexOf(" : '", StringComparison.Ordinal);
            return $"accepts no new files ({(path > 0 ? message[..path] : message.Replace(check, folder))})";
        }
    }
}
