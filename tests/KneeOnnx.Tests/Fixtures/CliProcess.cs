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
        process.Start();
        if (killAfterLines is 0)
        {
            killed = true;
            process.Kill(entireProcessTree: true);
        }
        // Dedicated reader threads, not the thread pool's output events: with the other tests' processes blocking pool
        // threads, an event could arrive seconds after its line, and the "kill after line k" would land many steps later.
        var readOutput = new Thread(() =>
        {
            while (process.StandardOutput.ReadLine() is string line)
            {
                lines.Add(line);
                if (!killed && killAfterLines is int k && lines.Count >= k)
                {
                    killed = true;
                    try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                }
            }
        }) { IsBackground = true };
        var readErrors = new Thread(() => errors.Append(process.StandardError.ReadToEnd())) { IsBackground = true };
        readOutput.Start();
        readErrors.Start();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 5 minutes");
        }
        readOutput.Join();
        readErrors.Join();
        return new Outcome(process.ExitCode, killed, lines, errors.ToString());
    }
}
