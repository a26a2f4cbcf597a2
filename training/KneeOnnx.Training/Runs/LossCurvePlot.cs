using KneeOnnx.IO;
using ScottPlot;

namespace KneeOnnx.Training.Runs;

/// <summary>Draws loss.csv as RUNDIR/loss.png: every step faintly, a moving average boldly, on a log loss axis.</summary>
public static class LossCurvePlot
{
    public const string FileName = "loss.png";

    public static void Write(string path, IReadOnlyList<LossLog.Row> rows, string title)
    {
        if (rows.Count == 0) return;
        double[] steps = rows.Select(r => (double)r.Step).ToArray();
        double[] logLoss = rows.Select(r => Math.Log10(Math.Max(r.Loss, 1e-6))).ToArray();
        double[] smooth = MovingAverage(logLoss, Math.Max(1, rows.Count / 40));

        var plot = new Plot();
        var raw = plot.Add.ScatterLine(steps, logLoss);
        raw.Color = Colors.SteelBlue.WithAlpha(0.25);
        raw.LineWidth = 1;
        raw.LegendText = "per step";
        var avg = plot.Add.ScatterLine(steps, smooth);
        avg.Color = Colors.DarkRed;
        avg.LineWidth = 2.5f;
        avg.LegendText = "moving average";
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = y => Math.Pow(10, y).ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
        };
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss (log scale)");
        plot.ShowLegend(Alignment.UpperRight);
        byte[] png = plot.GetImageBytes(900, 520, ImageFormat.Png);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary>Trailing mean over <paramref name="window"/> values (shorter at the start).</summary>
    public static double[] MovingAverage(IReadOnlyList<double> values, int window)
    {
        var result = new double[values.Count];
        double sum = 0;
        for (int i = 0; i < values.Count; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
