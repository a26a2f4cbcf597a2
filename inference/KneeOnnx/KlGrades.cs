namespace KneeOnnx;

/// <summary>The Kellgren-Lawrence grades the dataset's folders 0..4 stand for.</summary>
public static class KlGrades
{
    public const int Count = 5;

    public static readonly IReadOnlyList<string> Names = ["KL-0 None", "KL-1 Doubtful", "KL-2 Minimal", "KL-3 Moderate", "KL-4 Severe"];
}
