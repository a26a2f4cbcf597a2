using System.Globalization;
using System.Text;
using KneeOnnx.IO;

namespace KneeOnnx.Training.Runs;

/// <summary>
/// One row per optimiser step in RUNDIR/loss.csv, appended as training goes and cut back on resume. Each row reaches the
/// file when its step ends, so whoever follows a run (a plot, a tail) sees it live; rows past the last checkpoint are
/// cut on resume, so writing them early never leaves a log the checkpoint does not cover.
/// </summary>
public sealed class LossLog : IDisposable
{
    public const string FileName = "loss.csv";
    public const string Header = "step,loss,learning_rate,images_per_second,elapsed_seconds";

    public readonly record struct Row(long Step, double Loss, double LearningRate, double ImagesPerSecond, double ElapsedSeconds);

    private readonly List<Row> _rows;
    private readonly StreamWriter _writer;

    public string Path { get; }
    public IReadOnlyList<Row> Rows => _rows;

    /// <summary>Opens RUNDIR/loss.csv keeping only the rows of steps <paramref name="resumeStep"/> and earlier (those its checkpoint covers).</summary>
    public LossLog(string runDir, long resumeStep)
    {
        Path = System.IO.Path.Combine(runDir, FileName);
        _rows = File.Exists(Path) && resumeStep > 0
            ? Read(Path).Where(r => r.Step <= resumeStep).ToList()
            : [];
        var text = new StringBuilder(Header).Append('\n');
        foreach (var r in _rows) text.Append(Format(r));
        AtomicFile.WriteAllText(Path, text.ToString());
        _writer = new StreamWriter(new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
    }

    public void Append(Row row)
    {
        _rows.Add(row);
        _writer.Write(Format(row));
        // One small write per optimiser step costs nothing beside the step; buffered rows lagged by a checkpoint interval.
        _writer.Flush();
    }

    public void Flush() => _writer.Flush();

    public static List<Row> Read(string path) =>
        File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            var f = l.Split(',');
            return new Row(long.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture),
                double.Parse(f[2], CultureInfo.InvariantCulture), double.Parse(f[3], CultureInfo.InvariantCulture),
                double.Parse(f[4], CultureInfo.InvariantCulture));
        }).ToList();

    private static string Format(Row r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Step},{r.Loss:G6},{r.LearningRate:G6},{r.ImagesPerSecond:F2},{r.ElapsedSeconds:F1}\n");

    public void Dispose() => _writer.Dispose();
}
