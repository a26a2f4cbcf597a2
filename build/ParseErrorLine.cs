using CommandLine;
using CommandLine.Text;

namespace KneeOnnx.CommandLineSupport;

/// <summary>
/// Turns CommandLineParser's outcome into our conventions: help goes to standard output in full; every other parse
/// error is one line naming the option or value, so scripts and logs see exactly what was wrong. Linked into both CLIs.
/// </summary>
internal static class ParseErrorLine
{
    public static int Report<T>(ParserResult<T> result, IEnumerable<Error> errors, TextWriter output, TextWriter error, int badInputExitCode)
    {
        var list = errors.ToList();
        if (list.All(e => e.Tag is ErrorType.HelpRequestedError or ErrorType.HelpVerbRequestedError or ErrorType.VersionRequestedError or ErrorType.NoVerbSelectedError))
        {
            output.WriteLine(HelpText.AutoBuild(result, h => HelpText.DefaultParsingErrorsHandler(result, h), e => e));
            return list.Any(e => e.Tag == ErrorType.NoVerbSelectedError) ? badInputExitCode : 0;
        }
        error.WriteLine("error: " + Describe(list[0]) + " (--help lists the options)");
        return badInputExitCode;
    }

    private static string Describe(Error e) => e switch
    {
        BadFormatConversionError b => $"--{b.NameInfo.LongName}: the value is not valid for this option",
        MissingRequiredOptionError m => $"--{m.NameInfo.LongName} is required",
        MissingValueOptionError m => $"--{m.NameInfo.LongName} needs a value",
        RepeatedOptionError r => $"--{r.NameInfo.LongName} is given more than once",
        UnknownOptionError u => $"unknown option '{u.Token}'",
        BadVerbSelectedError v => $"unknown verb '{v.Token}'",
        SequenceOutOfRangeError s => $"--{s.NameInfo.LongName} has the wrong number of values",
        _ => $"cannot parse the command line ({e.Tag})",
    };
}
