using System.Security.Cryptography;
using System.Text;

namespace KneeOnnx.IO;

/// <summary>
/// Writes a file so that readers see either the old complete file or the new complete file, never a torn one:
/// the content goes to a temporary sibling, is flushed to disk, then renamed over the target (rename is atomic
/// within one file system). On any failure the temporary file is removed and the target is untouched.
/// </summary>
public static class AtomicFile
{
    public const string TempSuffix = ".partial";

    public static void Write(string path, Action<Stream> writeContent)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        string temp = Path.Combine(dir, $".{StemOf(Path.GetFileName(full))}.{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                writeContent(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            // The user named the file, not its temporary: say which output could not be written (a full disk, say).
            TryDelete(temp);
            throw new IOException($"{full}: could not be written ({e.Message.Replace(temp, System.IO.Path.GetFileName(temp))})", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Deletes temporaries that a killed writer left in <paramref name="directory"/> (ours only: hidden names ending in
    /// <see cref="TempSuffix"/>). Call before writing there again; finished files were renamed into place and stay.
    /// </summary>
    /// <param name="owns">which target file names this caller writes (given as <see cref="StemOf"/> the name, which is
    /// the name itself unless it is very long); others' temporaries (e.g. another shard's, still
    /// being written into the same folder) are left alone. Null: the caller is the folder's only writer.</param>
    public static int RemoveStaleTemporaries(string directory, Func<string, bool>? owns = null)
    {
        if (!Directory.Exists(directory)) return 0;
        int removed = 0;
        foreach (var stale in Directory.EnumerateFiles(directory, "." + "*" + TempSuffix))
        {
            string? target = TargetOf(Path.GetFileName(stale));
            if (target is null || (owns is not null && !owns(target))) continue;
            File.Delete(stale);
            removed++;
        }
        return removed;
    }

    /// <summary>The stem of the file name a temporary was going to become: ".STEM.PID.GUID.partial" → "STEM"
    /// (the name itself, or for a very long name its <see cref="StemOf"/>).</summary>
    public static string? TargetOf(string temporaryName)
    {
        if (!temporaryName.StartsWith('.') || !temporaryName.EndsWith(TempSuffix) || temporaryName.Length <= TempSuffix.Length + 1) return null;
        string core = temporaryName[1..^TempSuffix.Length];
        int guidDot = core.LastIndexOf('.');
        int pidDot = guidDot > 0 ? core.LastIndexOf('.', guidDot - 1) : -1;
        return pidDot > 0 ? core[..pidDot] : null;
    }

    /// <summary>
    /// The part of a temporary's name that stands for its target. A temporary adds up to 53 bytes (two dots, a process
    /// id, a 32-digit GUID, ".partial") and file names are limited to 255 bytes, so a target name longer than
    /// <see cref="MaxStemBytes"/> is cut at a character boundary and given a hash of the whole name; the hash keeps
    /// two long names with one beginning apart, so a rerun removes only its own temporaries.
    /// </summary>
    public static string StemOf(string fileName)
    {
        if (Encoding.UTF8.GetByteCount(fileName) <= MaxStemBytes) return fileName;
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fileName)))[..16];
        var cut = new StringBuilder();
        int bytes = 0;
        foreach (var rune in fileName.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > MaxStemBytes - hash.Length - 1) break;
            cut.Append(rune.ToString());
            bytes += rune.Utf8SequenceLength;
        }
        return $"{cut}~{hash}";
    }

    /// <summary>255 bytes less the 53 a temporary adds (".", ".", up to 10 pid digits, ".", 32 GUID digits, ".partial" ).</summary>
    public const int MaxStemBytes = 255 - 53;

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
