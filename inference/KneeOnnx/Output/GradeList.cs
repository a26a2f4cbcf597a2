using System.Globalization;

namespace KneeOnnx.Output;

/// <summary>Parses "0,2,4" (or "all") against the grades a model has.</summary>
public static class GradeList
{
    public static int[] Parse(string? text, int gradeCount)
    {
        if (string.IsNullOrWhiteSpace(text) || text == "all") return Enumerable.Range(0, gradeCount).ToArray();
        var grades = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int g) || g >= gradeCount)
                throw new ArgumentException($"--grades '{part}' is not a grade of this model (0..{gradeCount - 1})");
            if (!grades.Contains(g)) grades.Add(g);
        }
        return grades.ToArray();
    }
}
