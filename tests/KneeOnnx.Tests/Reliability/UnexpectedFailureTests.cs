using System.Reflection;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// The last resort of both CLIs (never the way bad input is handled): an exception no check anticipated is one line
/// naming its type, with the stack trace in a log file whose path the line gives, and exit code 70.
/// </summary>
public class UnexpectedFailureTests
{
    // Linked into both CLI assemblies as an internal type, so it is reached by name in each.
    public static TheoryData<string> Tools() => new() { "kneeonnx-train", "kneeonnx-gen" };

    [Theory]
    [MemberData(nameof(Tools))]
    public void AnUnexpectedExceptionIsOneLineAndALogFile(string tool)
    {
        var assembly = tool == "kneeonnx-train" ? typeof(KneeOnnx.Training.Cli.KneeOnnxTrainCli).Assembly : typeof(KneeOnnx.Cli.KneeOnnxCli).Assembly;
        var report = assembly.GetType("KneeOnnx.CommandLineSupport.UnexpectedFailure")!.GetMethod("Report", BindingFlags.Public | BindingFlags.Static)!;
        Exception thrown;
        try
        {
            throw new InvalidCastException("boom\nsecond line");
        }
        catch (InvalidCastException e)
        {
            thrown = e;
        }
        var error = new StringWriter();
        int code = (int)report.Invoke(null, [thrown, tool, new[] { "verb", "--x" }, error])!;

        Assert.Equal(70, code);
        Assert.Equal(KneeOnnx.Training.Cli.KneeOnnxTrainCli.UnexpectedExitCode, code);
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.UnexpectedExitCode, code);
        string line = Assert.Single(error.ToString().Trim().Split('\n'));
        Assert.StartsWith("error: unexpected InvalidCastException: boom; details in ", line);
        string log = line[(line.IndexOf("details in ", StringComparison.Ordinal) + "details in ".Length)..];
        try
        {
            string text = File.ReadAllText(log);
            Assert.Contains($"{tool} verb --x", text);
            Assert.Contains(nameof(AnUnexpectedExceptionIsOneLineAndALogFile), text); // the stack trace
        }
        finally
        {
            File.Delete(log);
        }
    }
}
