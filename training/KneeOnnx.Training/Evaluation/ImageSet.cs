using KneeOnnx.Imaging;
using KneeOnnx.Training.Data;

namespace KneeOnnx.Training.Evaluation;

/// <summary>A folder of <c>&lt;grade&gt;/*.png</c> images read for evaluation, all at one analysis side.</summary>
public static class ImageSet
{
    /// <summary>The side every PNG under <paramref name="root"/> has; mixed sizes are an error naming two files.</summary>
    public static int CommonSide(string root)
    {
        if (!Directory.Exists(root)) throw new DatasetException($"{root}: folder not found");
        SpecialDataFiles.RejectIn(root);
        var reader = new GrayImageReader();
        (string File, int W, int H)? first = null;
        for (int g = 0; g < KlGrades.Count; g++)
        {
            string dir = Path.Combine(root, g.ToString());
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.EnumerateFiles(dir, "*.png").Order(StringComparer.Ordinal))
            {
                var (w, h) = reader.ReadSize(file);
                first ??= (file, w, h);
                if (w != first.Value.W || h != first.Value.H)
                    throw new DatasetException($"{file}: {w}x{h} differs from {first.Value.File} ({first.Value.W}x{first.Value.H}); a generated set must have one image size");
                if (w != h) throw new DatasetException($"{file}: {w}x{h} is not square");
            }
        }
        return first?.W ?? throw new DatasetException($"{root}: no PNG images in any grade folder");
    }

    /// <summary>Evaluation reads exactly what a classifier would: any other file in a grade folder, and any image that is
    /// not a regular file (a named pipe would hang the read), is an error naming it.</summary>
    public static void RejectNonPng(string root)
    {
        SpecialDataFiles.RejectIn(root);
        for (int g = 0; g < KlGrades.Count; g++)
        {
            string dir = Path.Combine(root, g.ToString());
            if (!Directory.Exists(dir)) continue;
            var stray = Directory.EnumerateFiles(dir).FirstOrDefault(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith(".png", StringComparison.OrdinalIgnoreCase));
            if (stray is not null) throw new DatasetException($"{stray}: not a PNG file (evaluation reads <grade>/*.png only)");
        }
    }

    /// <summary>
    /// Every image of <paramref name="root"/>/&lt;grade&gt;/, resized to <paramref name="side"/> (through
    /// <paramref name="viaSide"/> first when that is smaller, see <see cref="GrayImageReader"/>); optionally at most
    /// <paramref name="limit"/> per grade.
    /// </summary>
    /// <param name="everyGrade">false: grades without a folder or without images are left out (a generated set made for some grades only).</param>
    public static KneeDataset Load(string root, int side, int? limit = null, int? viaSide = null, bool everyGrade = true)
    {
        RejectNonPng(root);
        var data = KneeDataset.Load(root, "", side, reader: viaSide is null ? null : new GrayImageReader(viaSide: viaSide), everyGrade: everyGrade);
        if (limit is not int n) return data;
        var keep = Enumerable.Range(0, data.Count).GroupBy(i => data.Grades[i]).SelectMany(g => g.Take(n)).Order().ToArray();
        return data.Subset(keep);
    }
}
