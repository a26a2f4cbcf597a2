using System.Diagnostics;

namespace KneeOnnx.Tests.Fixtures;

/// <summary>
/// Runs one of the built CLIs (kneeonnx-gen, kneeonnx-train) as a separate process, optionally killing it with
/// SIGKILL as soon as it has printed a given number of lines: a crash at a moment chosen by progress, not by a clock.
/// </summary>
public static class CliProcess
{
    public sealed record Outcome(int ExitCode, bool Killed, IReadOnlyList<string> Lines, string Errors);

    public static Outcome Run(string program, IEnumerable<string> args, int? killAfterLines = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, program + ".dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = new Process { StartInfo = start };
        var lines = new List<string>();
        bool killed = false;
        var errors = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines)
            {
                lines.Add(e.Data);
                if (!killed && killAfterLines is int k && lines.Count >= k)
                {
                    killed = true;
                    try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                }
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (killAfterLines is 0)
        {
            killed = true;
            process.Kill(entireProcessTree: true);
        }
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 5 minutes");
        }
        process.WaitForExit();
        lock (lines) return new Outcome(process.ExitCode, killed, lines.ToList(), errors.ToString());
    }
}
