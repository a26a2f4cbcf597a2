namespace KneeOnnx.Tests.Fixtures;

/// <summary>Runs either CLI in this process, capturing what it prints.</summary>
public static class InProcessCli
{
    public sealed record Result(int Code, string Out, string Err)
    {
        public void Deconstruct(out int code, out string stdout, out string err) => (code, stdout, err) = (Code, Out, Err);
    }

    public static Result Train(params string[] args) => Capture((o, e) => KneeOnnx.Training.Cli.KneeOnnxTrainCli.Run(args, o, e));

    public static Result Generate(params string[] args) => Capture((o, e) => KneeOnnx.Cli.KneeOnnxCli.Run(args, o, e));

    private static Result Capture(Func<TextWriter, TextWriter, int> run)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = run(output, error);
        return new Result(code, output.ToString(), error.ToString());
    }
}
