using System.Globalization;

namespace KneeOnnx.Output;

/// <summary>
/// Part k of N (0-based) of a generation request: item j belongs to shard j mod N, so shards are disjoint, balanced,
/// and together exactly the whole request. Read from <c>--shard k/N</c>, else from a Slurm job array
/// (SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT) or a Kubernetes indexed Job (JOB_COMPLETION_INDEX with --shard-count).
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public static readonly Shard Whole = new(0, 1);

    public bool IsWhole => Count == 1;
    public bool Contains(long position) => position % Count == Index;
    public override string ToString() => $"{Index}/{Count}";

    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            || n < 1 || k >= n)
            throw new ArgumentException($"--shard '{text}' must be k/N with 0 <= k < N (e.g. 0/4)");
        return new Shard(k, n);
    }

    /// <summary>The explicit option wins; then Slurm's array variables; then a Kubernetes completion index.</summary>
    public static Shard Resolve(string? option, int? shardCount, Func<string, string?> env)
    {
        if (!string.IsNullOrEmpty(option)) return Parse(option);
        string? slurmId = env("SLURM_ARRAY_TASK_ID"), slurmCount = env("SLURM_ARRAY_TASK_COUNT");
        if (!string.IsNullOrEmpty(slurmId) && !string.IsNullOrEmpty(slurmCount))
        {
            // Slurm arrays may start at SLURM_ARRAY_TASK_MIN (often 0 or 1); shards are counted from it.
            int min = int.TryParse(env("SLURM_ARRAY_TASK_MIN"), out int m) ? m : 0;
            if (!int.TryParse(slurmId, out int id)) throw new ArgumentException($"SLURM_ARRAY_TASK_ID '{slurmId}' is not a number");
            return Parse($"{id - min}/{slurmCount}");
        }
        string? completion = env("JOB_COMPLETION_INDEX");
        if (!string.IsNullOrEmpty(completion))
        {
            if (shardCount is null) throw new ArgumentException("JOB_COMPLETION_INDEX is set: pass --shard-count N (the Job's completions)");
            return Parse($"{completion}/{shardCount}");
        }
        return Whole;
    }
}
