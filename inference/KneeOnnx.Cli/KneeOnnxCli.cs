using CommandLine;
using KneeOnnx.Imaging;
using KneeOnnx.IO;
using KneeOnnx.Runtime;

namespace KneeOnnx.Cli;

/// <summary>The inference CLI's entry: verb dispatch, and the one place failures become one-line errors and exit codes.</summary>
public static class KneeOnnxCli
{
    public const int BadInputExitCode = 2;
    public const int OutOfMemoryExitCode = OutOfMemory.ExitCode;
    public const int UnexpectedExitCode = CommandLineSupport.UnexpectedFailure.ExitCode;

    public static int Run(string[] args, TextWriter output, TextWriter error) =>
        NewFolders.TakenBackOnFailure(beforeRunning => Dispatch(args, output, error, beforeRunning));

    /// <summary>
    /// The paths a failed command may take back while empty. Shards of one request share their --out (each started
    /// where none existed yet), so a shard that fails must not take it back: the other shards' grade folders in it may
    /// still be empty.
    /// </summary>
    internal static IEnumerable<string?> OutputsOf(object? options, Func<string, string?> env) => options switch
    {
        GenerateOptions o => IsSharded(o, env) ? [o.Sheet] : [o.Out, o.Sheet],
        GridOptions o => [o.Out],
        RegradeOptions o => [o.Out, o.Sheet],
        _ => [],
    };

    private static bool IsSharded(GenerateOptions o, Func<string, string?> env)
    {
        try { return !KneeOnnx.Output.Shard.Resolve(o.Shard, o.ShardCount, env).IsWhole; }
        catch (ArgumentException) { return false; } // refused before anything is written
    }

    private static int Dispatch(string[] args, TextWriter output, TextWriter error, Action<IEnumerable<string?>> beforeRunning)
    {
        using var parser = new Parser(s =>
        {
            s.HelpWriter = null;
            s.CaseSensitive = true;
        });
        ParserResult<object>? parsed = null;
        try
        {
            parsed = parser.ParseArguments<GenerateOptions, GridOptions, InfoOptions, RegradeOptions>(args);
            beforeRunning(OutputsOf(parsed.Value, Environment.GetEnvironmentVariable));
            if (parsed.Tag == ParserResultType.Parsed) CommandLineSupport.OptionStrings.Check(parsed.Value);
            return parsed.MapResult(
                (GenerateOptions o) => GenerateCommand.Run(o, output),
                (GridOptions o) => GridCommand.Run(o, output),
                (InfoOptions o) => InfoCommand.Run(o, output),
                (RegradeOptions o) => RegradeCommand.Run(o, output),
                errors => CommandLineSupport.ParseErrorLine.Report(parsed, errors, output, error, BadInputExitCode));
        }
        catch (Exception e) when (OutOfMemory.Is(e) && e is not ArgumentException)
        {
            // Images already written stay (each is renamed into place); rerunning with a smaller --batch resumes.
            error.WriteLine("error: " + (parsed?.Value is GenerateOptions g
                ? OutOfMemory.Describe(e, g.Batch, "--batch") + "; rerun with it to resume"
                : $"out of memory ({e.Message.Split('\n', 2)[0].Trim()})"));
            return OutOfMemoryExitCode;
        }
        catch (Exception e) when (e is ArgumentException or InvalidModelException or InvalidImageException or InvalidOperationException or InvalidDataException
                                       or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return BadInputExitCode;
        }
        catch (Exception e)
        {
            return CommandLineSupport.UnexpectedFailure.Report(e, "kneeonnx-gen", args, error);
        }
    }
}
