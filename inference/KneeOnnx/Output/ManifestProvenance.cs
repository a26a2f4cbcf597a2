using KneeOnnx.Validation;

namespace KneeOnnx.Output;

/// <summary>
/// Keeps a resumed generate honest. File names carry the sampler settings and seed but not the model or the written
/// size, so a rerun with another model would take the earlier images as its own and list them under its model's
/// SHA-256; a rerun with other settings would rewrite the manifest without the earlier rows. Before anything is
/// written, every manifest already in the output folder (this shard's and the others') must have been written by a
/// request of the same provenance.
/// </summary>
public static class ManifestProvenance
{
    /// <summary>Refuses <paramref name="outDir"/> (as the user gave it) when a manifest there says its images were made otherwise.</summary>
    public static void RequireSame(string outDir, ImageProvenance request)
    {
        if (!Directory.Exists(outDir)) return;
        foreach (var path in Directory.EnumerateFiles(outDir, "manifest*.csv").Where(IsManifestName).Order(StringComparer.Ordinal))
        {
            // Read only a regular file: a named pipe here would block the read forever.
            var type = FileTypes.Of(path);
            if (type != FileType.Regular)
                throw new ArgumentException($"{path}: exists and is {FileTypes.Describe(type)}; outputs are only ever regular files (choose another --out)");
            string? difference = FirstDifference(path, request);
            if (difference is not null) throw new ArgumentException($"{path}: {difference}; choose another --out");
        }
    }

    /// <summary>manifest.csv or manifest.shard-k-of-N.csv (<see cref="Manifest.FileName"/>).</summary>
    public static bool IsManifestName(string path)
    {
        string name = Path.GetFileName(path);
        return name == "manifest.csv" || (name.StartsWith("manifest.shard-", StringComparison.Ordinal) && name.Contains("-of-", StringComparison.Ordinal));
    }

    private static string? FirstDifference(string path, ImageProvenance request)
    {
        using var reader = new StreamReader(path);
        string? headerLine = reader.ReadLine();
        if (headerLine is null) return null; // empty: nothing is claimed yet
        var header = CsvFields.Split(headerLine);
        if (header.Count == 0 || header[0] != "file" || !header.Contains("model_sha256"))
            return "not a KneeOnnx manifest (its header has no file and model_sha256 columns), and generate would replace it";
        int lineNumber = 1;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var fields = CsvFields.Split(line);
            if (fields.Count != header.Count)
                return $"line {lineNumber} has {fields.Count} fields, the header {header.Count}: not a manifest generate wrote";
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Count; i++) row[header[i]] = fields[i];
            if (request.DifferenceFrom(row) is { } difference) return difference;
        }
        return null;
    }
}
