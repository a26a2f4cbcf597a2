namespace KneeOnnx.CommandLineSupport;

/// <summary>
/// The last resort of both CLIs: an exception no check anticipated becomes one line naming its type and a log file
/// holding the stack trace, and exit code 70 (EX_SOFTWARE: a bug of ours, not bad input). Bad input never gets here:
/// it is refused with exit code 2 by the checks before it. Linked into both CLIs.
/// </summary>
internal static class UnexpectedFailure
{
    public const int ExitCode = 70;

    public static int Report(Exception e, string tool, string[] args, TextWriter error)
    {
        string firstLine = e.Message.Split('\n', 2)[0].Trim();
        string? log = TryWriteLog(e, tool, args);
        error.WriteLine($"error: unexpected {e.GetType().Name}: {firstLine}" + (log is null ? " (no log file could be written)" : $"; details in {log}"));
        return ExitCode;
    }

    private static string? TryWriteLog(Exception e, string tool, string[] args)
    {
        try
        {
            string dir = Path.Combine(Path.GetTempPath(), "kneeonnx-logs");
            Directory.CreateDirectory(dir);
            string path = Path.Combine(dir, $"{tool}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}.log");
            File.WriteAllText(path, $"{tool} {string.Join(' ', args)}\n{DateTime.UtcNow:O}\n\n{e}\n");
            return path;
        }
        catch (Exception logFailure) when (logFailure is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
