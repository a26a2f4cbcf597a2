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
