using CommandLine;
using CommandLine.Text;

namespace KneeOnnx.CommandLineSupport;

/// <summary>
/// Turns CommandLineParser's outcome into our conventions: help goes to standard output in full; every other parse
/// error is one line naming the option or value, so scripts and logs see exactly what was wrong. Linked into both CLIs.
/// </summary>
internal static class ParseErrorLine
{
    /// <summary>Options renamed for one vocabulary across verbs: the old spelling gets a pointer to the new one.</summary>
    private static readonly Dictionary<string, string> Renamed = new()
    {
        ["count"] = "--per-grade",
        ["grade"] = "--grades",
    };

    public static int Report<T>(ParserResult<T> result, IEnumerable<Error> errors, TextWriter output, TextWriter error, int badInputExitCode)
    {
        var list = errors.ToList();
        if (list.All(e => e.Tag is ErrorType.HelpRequestedError or ErrorType.HelpVerbRequestedError or ErrorType.VersionRequestedError or ErrorType.NoVerbSelectedError))
        {
            output.WriteLine(Help(result, list));
            return list.Any(e => e.Tag == ErrorType.NoVerbSelectedError) ? badInputExitCode : 0;
        }
        error.WriteLine("error: " + Describe(list[0]) + " (--help lists the options)");
        return badInputExitCode;
    }

    /// <summary>
    /// The verb index for a bare <c>--help</c> or no verb; the verb's options for <c>VERB --help</c> and <c>help VERB</c>;
    /// the version line for <c>--version</c>. (The library's three-argument AutoBuild renders a bare <c>--help</c> and
    /// <c>help VERB</c> as the empty verb-less type, listing only --help and --version.)
    /// </summary>
    private static string Help<T>(ParserResult<T> result, List<Error> errors)
    {
        if (errors.Any(e => e.Tag == ErrorType.VersionRequestedError)) return Heading;
        bool noVerb = result.TypeInfo.Current == typeof(NullInstance);
        var help = errors.Any(e => e is HelpVerbRequestedError)
            ? HelpText.AutoBuild(result)
            : HelpText.AutoBuild(result, h => HelpText.DefaultParsingErrorsHandler(result, h), e => e, verbsIndex: noVerb);
        help.Heading = Heading;
        help.Copyright = "";
        return help;
    }

    /// <summary>
    /// "kneeonnx-gen 0.1.0": this CLI's own assembly (the file is compiled into each), not the process's entry
    /// assembly that CommandLineParser's default heading names (a test host, when a CLI runs in-process).
    /// </summary>
    private static string Heading
    {
        get
        {
            var assembly = System.Reflection.Assembly.GetExecutingAssembly();
            string version = assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
                .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0]
                ?? assembly.GetName().Version?.ToString() ?? "?";
            return $"{assembly.GetName().Name} {version}";
        }
    }

    private static string Describe(Error e) => e switch
    {
        BadFormatConversionError b => $"--{b.NameInfo.LongName}: the value is not valid for this option",
        MissingRequiredOptionError m => $"--{m.NameInfo.LongName} is required",
        MissingValueOptionError m => $"--{m.NameInfo.LongName} needs a value",
        RepeatedOptionError r => $"--{r.NameInfo.LongName} is given more than once",
        UnknownOptionError u when Renamed.TryGetValue(u.Token, out var now) => $"unknown option '--{u.Token}' (renamed {now})",
        UnknownOptionError u => $"unknown option '{u.Token}'",
        BadVerbSelectedError v => $"unknown verb '{v.Token}'",
        SequenceOutOfRangeError s => $"--{s.NameInfo.LongName} has the wrong number of values",
        _ => $"cannot parse the command line ({e.Tag})",
    };
}
