namespace KneeOnnx;

/// <summary>
/// The knee side: index 0 = left, 1 = right, 2 = the null side ("either") of side-conditioned models. The dataset's
/// file names end in it (<c>9003175L.png</c>); a PA radiograph of the left knee is the mirror image of a right one.
/// </summary>
public static class KneeSides
{
    public const int Count = 2;
    public const int Left = 0;
    public const int Right = 1;
    /// <summary>The index of the learned "either side" embedding, used for <c>--sides any</c> and for guidance.</summary>
    public const int Null = Count;
    /// <summary>Marks a model or image without side conditioning.</summary>
    public const int None = -1;

    public static readonly IReadOnlyList<string> Names = ["L", "R"];

    /// <summary>The side a dataset file name states (its stem's last letter, L or R, either case), or <see cref="None"/>.</summary>
    public static int FromFileName(string path)
    {
        string stem = Path.GetFileNameWithoutExtension(path);
        if (stem.Length < 2) return None;
        return char.ToUpperInvariant(stem[^1]) switch
        {
            'L' => Left,
            'R' => Right,
            _ => None,
        };
    }

    /// <summary>
    /// The side a user's own file name states, stricter than <see cref="FromFileName"/> (the dataset's names): L or R
    /// (either case) after a digit or as the whole last word (<c>9003175L</c>, <c>knee_R</c>), else a single-letter
    /// word L or R anywhere (generate's <c>kl0_L_…_000001</c>); a word merely ending in l or r (<c>knee_original</c>)
    /// states nothing, and neither do names with both sides. <see cref="None"/> when nothing is stated.
    /// </summary>
    public static int StatedIn(string path)
    {
        string[] words = Path.GetFileNameWithoutExtension(path).Split(['_', '-', ' ', '.'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) return None;
        static int Letter(char c) => char.ToUpperInvariant(c) switch { 'L' => Left, 'R' => Right, _ => None };
        string last = words[^1];
        if (last.Length >= 2 && char.IsAsciiDigit(last[^2]) && Letter(last[^1]) != None) return Letter(last[^1]);
        var named = words.Where(w => w.Length == 1).Select(w => Letter(w[0])).Where(s => s != None).Distinct().ToArray();
        return named.Length == 1 ? named[0] : None;
    }

    /// <summary>The side a horizontal flip turns a knee into.</summary>
    public static int Mirror(int side) => side is Left or Right ? 1 - side : side;

    /// <summary>"L", "R", or "any" for the null side.</summary>
    public static string Label(int side) => side switch
    {
        Left or Right => Names[side],
        Null => "any",
        _ => "",
    };
}
