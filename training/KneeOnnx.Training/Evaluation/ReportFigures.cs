using KneeOnnx.IO;
using KneeOnnx.Output;
using KneeOnnx.Training.Data;
using ScottPlot;

namespace KneeOnnx.Training.Evaluation;

/// <summary>
/// The report's pictures: FID against its floor per grade, generated images beside their nearest training image, and
/// generated images above real ones of the same grade at the same size (what a reader compares by eye).
/// </summary>
public static class ReportFigures
{
    public const string FidChart = "fid_by_grade.png";
    public const string NearestSheet = "nearest_train.png";
    public const string BesideRealSheet = "generated_beside_real.png";

    public static void FidBars(string path, IReadOnlyDictionary<string, double?> fid, IReadOnlyDictionary<string, double?> floor)
    {
        var keys = fid.Keys.ToArray();
        var plot = new Plot();
        for (int i = 0; i < keys.Length; i++)
        {
            if (fid[keys[i]] is double g)
            {
                var bar = plot.Add.Bar(position: i * 3, value: g);
                bar.Color = Colors.DarkRed;
            }
            if (floor[keys[i]] is double f)
            {
                var bar = plot.Add.Bar(position: i * 3 + 1, value: f);
                bar.Color = Colors.SteelBlue;
            }
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            keys.Select((k, i) => i * 3 + 0.5).ToArray(), keys.Select(k => k == "all" ? "all" : "KL" + k).ToArray());
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "generated vs real", FillColor = Colors.DarkRed });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "real-vs-real floor (same n)", FillColor = Colors.SteelBlue });
        plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.Margins(bottom: 0);
        plot.Title("FID-RN18 per grade (lower is better)");
        plot.YLabel("FID-RN18");
        byte[] png = plot.GetImageBytes(900, 480, ImageFormat.Png);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary>
    /// Per grade two rows: the first <paramref name="perRow"/> generated images (file order), then as many real images
    /// of that grade drawn at random with <paramref name="seed"/> — a fair sample, not the nearest ones.
    /// </summary>
    public static void BesideReal(string path, KneeDataset generated, KneeDataset real, int side, long seed, int perRow = 8)
    {
        var rng = new Random(unchecked((int)seed) ^ 0x5EED);
        var rows = new List<IReadOnlyList<float[]>>();
        for (int g = 0; g < KlGrades.Count; g++)
        {
            var made = Enumerable.Range(0, generated.Count).Where(i => generated.Grades[i] == g).Take(perRow).Select(i => generated.Images[i]).ToList();
            var pool = Enumerable.Range(0, real.Count).Where(i => real.Grades[i] == g).ToArray();
            rng.Shuffle(pool);
            if (made.Count == 0 || pool.Length == 0) continue;
            rows.Add(made);
            rows.Add(pool.Take(perRow).Select(i => real.Images[i]).ToList());
        }
        if (rows.Count > 0) ContactSheet.Write(path, rows, side, Math.Max(side, 96));
    }

    /// <summary>One row per grade: up to <paramref name="perGrade"/> pairs of (generated, its pixel-nearest training image).</summary>
    public static void NearestPairs(string path, KneeDataset generated, KneeDataset train, IReadOnlyList<(int Index, double Distance)> nearest, int side, int perGrade = 4)
    {
        var rows = new List<IReadOnlyList<float[]>>();
        for (int g = 0; g < KlGrades.Count; g++)
        {
            var row = new List<float[]>();
            foreach (int i in Enumerable.Range(0, generated.Count).Where(i => generated.Grades[i] == g).Take(perGrade))
            {
                row.Add(generated.Images[i]);
                row.Add(train.Images[nearest[i].Index]);
            }
            if (row.Count > 0) rows.Add(row);
        }
        if (rows.Count > 0) ContactSheet.Write(path, rows, side, Math.Max(side, 96));
    }
}
