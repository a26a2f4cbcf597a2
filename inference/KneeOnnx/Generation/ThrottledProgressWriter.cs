namespace KneeOnnx.Generation;

/// <summary>
/// Writes <see cref="GenerationProgress"/> lines to a text writer at most once per interval, and always at the end of a
/// batch, so a DDPM-1000 batch that runs for minutes still shows it is moving without flooding a log.
/// Synchronous (unlike <see cref="Progress{T}"/>, which posts to a synchronisation context).
/// </summary>
public sealed class ThrottledProgressWriter(TextWriter output, TimeSpan interval) : IProgress<GenerationProgress>
{
    private TimeSpan? _lastWritten;

    public void Report(GenerationProgress value)
    {
        bool batchEnd = value.Step == value.Steps;
        if (!batchEnd && _lastWritten is TimeSpan last && value.Elapsed - last < interval) return;
        _lastWritten = value.Elapsed;
        output.WriteLine(value.ToString());
    }
}
