using KneeOnnx.Imaging;
using KneeOnnx.Validation;

namespace KneeOnnx.Training.Data;

/// <summary>
/// Image files of a data folder that are not regular files: a named pipe called <c>x.png</c> would block its reader
/// forever, a device would be read without end. They are found by stat alone, without opening them.
/// </summary>
public static class SpecialDataFiles
{
    /// <summary>Each such file's position in <paramref name="files"/>, with the error that names it.</summary>
    public static IEnumerable<(int Index, InvalidImageException Error)> Find(IEnumerable<string> files)
    {
        int i = 0;
        foreach (var file in files)
        {
            var type = FileTypes.Of(file);
            if (type is FileType.Device or FileType.Fifo or FileType.Socket or FileType.Unknown)
                yield return (i, new InvalidImageException(file, $"is {FileTypes.Describe(type)}, not a regular file"));
            i++;
        }
    }

    /// <summary>Refuses the first such file under <paramref name="root"/>/&lt;grade&gt;/ (a folder that does not exist is left to its reader).</summary>
    public static void RejectIn(string root)
    {
        for (int g = 0; g < KlGrades.Count; g++)
        {
            string dir = Path.Combine(root, g.ToString());
            if (!Directory.Exists(dir)) continue;
            var first = Find(Directory.EnumerateFiles(dir).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)).Select(f => f.Error).FirstOrDefault();
            if (first is not null) throw new DatasetException(first.Message, first);
        }
    }
}
