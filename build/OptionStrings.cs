using System.Reflection;
using CommandLine;

namespace KneeOnnx.CommandLineSupport;

/// <summary>
/// Text options that no verb can use: an empty value (<c>--out ""</c>, which .NET reports as "The path is empty",
/// naming no option) or one holding a NUL character (which no file system accepts). Refused by option name before
/// the verb runs. Linked into both CLIs.
/// </summary>
internal static class OptionStrings
{
    public static void Check(object? options)
    {
        if (options is null) return;
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType != typeof(string) || property.GetCustomAttribute<OptionAttribute>() is not { } option) continue;
            if (property.GetValue(options) is not string value) continue;
            if (value.Length == 0) throw new ArgumentException($"--{option.LongName} must not be empty");
            if (value.Contains('\0')) throw new ArgumentException($"--{option.LongName} must not contain a NUL character");
        }
    }
}
