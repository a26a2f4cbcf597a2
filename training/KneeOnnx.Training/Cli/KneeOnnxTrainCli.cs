using CommandLine;
using KneeOnnx.Imaging;
using KneeOnnx.IO;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Training.Cli;

/// <summary>The training CLI's entry: verb dispatch and the one place that turns failures into one-line errors and exit codes.</summary>
public static class KneeOnnxTrainCli
{
    public const int BadInputExitCode = 2;
    public const int DivergedExitCode = 3;
    public const int ExportCheckFailedExitCode = 4;
    public const int OutOfMemoryExitCode = Runtime.OutOfMemory.ExitCode;
    public const int UnexpectedExitCode = CommandLineSupport.UnexpectedFailure.ExitCode;

    public static int Run(string[] args, TextWriter output, TextWriter error) =>
        NewFolders.TakenBackOnFailure(beforeRunning => Dispatch(args, output, error, beforeRunning));

    /// <summary>The paths each verb may create, known once the command line is parsed.</summary>
    private static IEnumerable<string?> OutputsOf(object? options) => options switch
    {
        TrainOptions o => [o.Out],
        TrainAutoencoderOptions o => [o.Out],
        ExportAutoencoderOptions o => [o.Out],
        EvaluateAutoencoderOptions o => [o.Out],
        SampleOptions o => [o.Out],
        ExportOptions o => [o.Out],
        SetDefaultsOptions o => [o.Out],
        EvaluateOptions o => [o.Out],
        TrainClassifierOptions o => [o.Out],
        AugmentBenefitOptions o => [o.Out],
        AugmentCompareOptions o => [o.Out],
        FilterGeneratedOptions o => [o.Out],
        BenchOptions o => [o.Out],
        _ => [],
    };

    private static int Dispatch(string[] args, TextWriter output, TextWriter error, Action<IEnumerable<string?>> beforeRunning)
    {
        using var parser = new Parser(s =>
        {
            s.HelpWriter = null;
            s.CaseSensitive = true;
            s.CaseInsensitiveEnumValues = true;
        });
        try
        {
            var parsed = parser.ParseArguments<TrainOptions, TrainAutoencoderOptions, ExportAutoencoderOptions, EvaluateAutoencoderOptions, SampleOptions, ExportOptions, SetDefaultsOptions, EvaluateOptions, TrainClassifierOptions, AugmentBenefitOptions, AugmentCompareOptions, FilterGeneratedOptions, BenchOptions, BenchGenerateOptions, CardOptions>(args);
            beforeRunning(OutputsOf(parsed.Value));
            if (parsed.Tag == ParserResultType.Parsed) CommandLineSupport.OptionStrings.Check(parsed.Value);
            if (parsed.Value is TorchOptions torchOptions)
                LibTorch.LibTorchLoader.Apply(torchOptions.LibTorch, output);
            return parsed.MapResult(
                (TrainOptions o) => TrainCommand.Run(o, output),
                (TrainAutoencoderOptions o) => TrainAutoencoderCommand.Run(o, output),
                (ExportAutoencoderOptions o) => ExportAutoencoderCommand.Run(o, output),
                (EvaluateAutoencoderOptions o) => EvaluateAutoencoderCommand.Run(o, output),
                (SampleOptions o) => SampleCommand.Run(o, output),
                (ExportOptions o) => ExportCommand.Run(o, output),
                (SetDefaultsOptions o) => SetDefaultsCommand.Run(o, output),
                (TrainClassifierOptions o) => TrainClassifierCommand.Run(o, output),
                (EvaluateOptions o) => EvaluateCommand.Run(o, output),
                (AugmentBenefitOptions o) => AugmentBenefitCommand.Run(o, output),
                (AugmentCompareOptions o) => AugmentCompareCommand.Run(o, output),
                (FilterGeneratedOptions o) => FilterGeneratedCommand.Run(o, output),
                (BenchOptions o) => Bench.BenchmarkRunner.Run(o.ToRequest(), output) is null ? 1 : 0,
                (CardOptions o) => CardCommand.Run(o, output),
                (BenchGenerateOptions o) => Bench.PeakMemory.Child(o.Model, o.Count, o.Out, output),
                errors => CommandLineSupport.ParseErrorLine.Report(parsed, errors, output, error, BadInputExitCode));
        }
        catch (Export.ExportCheckFailedException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExportCheckFailedExitCode;
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"error: {e.Message}");
            return DivergedExitCode;
        }
        catch (Runtime.DeviceOutOfMemoryException e)
        {
            error.WriteLine($"error: {e.Message}");
            return OutOfMemoryExitCode;
        }
        catch (Exception e) when (Runtime.OutOfMemory.Is(e) && e is not ArgumentException)
        {
            // A verb that names no batch of its own (bench, train-classifier, ...): the allocation failure in one line.
            error.WriteLine($"error: out of memory ({e.Message.Split('\n', 2)[0].Trim()}); try smaller batch sizes");
            return OutOfMemoryExitCode;
        }
        catch (Exception e) when (e is ArgumentException or DatasetException or InvalidImageException or InvalidDataException
                                       or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException
                                       or Runtime.InvalidModelException)
        {
            error.WriteLine($"error: {e.Message}");
            return BadInputExitCode;
        }
        catch (Exception e)
        {
            return CommandLineSupport.UnexpectedFailure.Report(e, "kneeonnx-train", args, error);
        }
    }
}
