namespace KneeOnnx.Training.Runs;

/// <summary>
/// A one-line training status (step, loss, rate, ETA). In a terminal the line is redrawn in place at most once a
/// second; when output is redirected (a log file, a cluster job) a full line is printed every <c>every</c> steps.
/// </summary>
public sealed class ProgressLine(TextWriter output, bool interactive, int every)
{
    private DateTime _lastDraw = DateTime.MinValue;
    private bool _drawnInPlace;

    public void Report(long step, long total, double smoothedLoss, double learningRate, double imagesPerSecond, TimeSpan eta, bool force = false)
    {
        string line = $"step {step}/{total}  loss {smoothedLoss:F4}  lr {learningRate:E2}  {imagesPerSecond:F1} img/s  ETA {Format(eta)}";
        if (interactive)
        {
            if (!force && (DateTime.UtcNow - _lastDraw).TotalSeconds < 1) return;
            output.Write("\r" + line.PadRight(Console.IsOutputRedirected ? 0 : Math.Max(0, SafeWidth() - 1)));
            _drawnInPlace = true;
            _lastDraw = DateTime.UtcNow;
        }
        else if (force || step % every == 0)
        {
            output.WriteLine(line);
        }
    }

    /// <summary>Prints a message on its own line without garbling an in-place status line.</summary>
    public void Message(string text)
    {
        if (_drawnInPlace)
        {
            output.WriteLine();
            _drawnInPlace = false;
        }
        output.WriteLine(text);
    }

    public static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : $"{t.Minutes}m{t.Seconds:D2}s";

    private static int SafeWidth()
    {
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : 100; }
        catch (IOException) { return 100; }
    }
}
