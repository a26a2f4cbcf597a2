using KneeOnnx.Runtime;

namespace KneeOnnx.Output;

/// <summary>Parses <c>--sides</c>: <c>L</c>, <c>R</c>, <c>L,R</c> or <c>any</c> (the model picks, through its null side).</summary>
public static class SideList
{
    public const string Any = "any";

    /// <summary>The side indexes to make for each grade; empty for a grade-only model (which accepts only no value or <c>any</c>).</summary>
    public static int[] Parse(string? text, ModelInfo info)
    {
        string value = string.IsNullOrWhiteSpace(text) ? Any : text.Trim();
        if (!info.IsSideConditioned)
            return value.Equals(Any, StringComparison.OrdinalIgnoreCase) ? []
                : throw new ArgumentException($"--sides '{value}': this model is not side-conditioned (train one with train --sides); leave --sides out");
        if (value.Equals(Any, StringComparison.OrdinalIgnoreCase)) return [info.NullSide];
        var sides = new List<int>();
        foreach (string part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            int side = KneeSides.Names.ToList().FindIndex(n => n.Equals(part, StringComparison.OrdinalIgnoreCase));
            if (side < 0) throw new ArgumentException($"--sides '{value}': '{part}' is not one of {string.Join(", ", KneeSides.Names)} (or give {Any})");
            if (sides.Contains(side)) throw new ArgumentException($"--sides '{value}': {KneeSides.Names[side]} is given twice");
            sides.Add(side);
        }
        return sides.ToArray();
    }
}
