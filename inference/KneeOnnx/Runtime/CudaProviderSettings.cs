namespace KneeOnnx.Runtime;

/// <summary>
/// ONNX Runtime CUDA execution provider options given as <c>key=value,key=value</c> (the provider's own key names).
/// They are checked here, before any session exists, because ONNX Runtime can only check them once its CUDA provider
/// library has loaded, i.e. not at all on a machine without CUDA. The levers against TorchSharp CUDA:
/// <c>cudnn_conv_algo_search</c> (EXHAUSTIVE benchmarks each conv shape once, HEURISTIC picks without timing),
/// <c>prefer_nhwc</c> (channels-last kernels), <c>use_tf32</c> (TF32 tensor cores for fp32 conv/GEMM, as PyTorch's
/// cuDNN convolutions use by default), <c>enable_cuda_graph</c> (needs fixed shapes and device-bound inputs; not wired
/// into the sampling loop yet).
/// </summary>
public static class CudaProviderSettings
{
    private static readonly string[] Flags =
    [
        "prefer_nhwc", "use_tf32", "enable_cuda_graph", "do_copy_in_default_stream", "cudnn_conv_use_max_workspace",
        "cudnn_conv1d_pad_to_nc1d", "enable_skip_layer_norm_strict_mode", "use_ep_level_unified_stream", "fuse_conv_bias",
        "tunable_op_enable", "tunable_op_tuning_enable",
    ];

    private static readonly Dictionary<string, string[]> Choices = new()
    {
        ["cudnn_conv_algo_search"] = ["EXHAUSTIVE", "HEURISTIC", "DEFAULT"],
        ["arena_extend_strategy"] = ["kNextPowerOfTwo", "kSameAsRequested"],
    };

    private static readonly string[] Sizes = ["gpu_mem_limit", "tunable_op_max_tuning_duration_ms"];

    /// <summary>Parses "k=v,k=v"; throws ArgumentException with one line naming the offending pair.</summary>
    public static IReadOnlyDictionary<string, string> Parse(string? text, string option = "--cuda-options")
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text)) return result;
        foreach (string pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1)
                throw new ArgumentException($"{option}: '{pair}' is not key=value");
            string key = pair[..eq].Trim(), value = pair[(eq + 1)..].Trim();
            if (Flags.Contains(key))
            {
                if (value is not ("0" or "1")) throw new ArgumentException($"{option}: {key} must be 0 or 1, got '{value}'");
            }
            else if (Choices.TryGetValue(key, out var allowed))
            {
                if (!allowed.Contains(value)) throw new ArgumentException($"{option}: {key} must be one of {string.Join(", ", allowed)}, got '{value}'");
            }
            else if (Sizes.Contains(key))
            {
                if (!ulong.TryParse(value, out _)) throw new ArgumentException($"{option}: {key} must be a non-negative integer, got '{value}'");
            }
            else
            {
                throw new ArgumentException($"{option}: unknown CUDA provider option '{key}' (known: {string.Join(", ", Known)})");
            }
            if (!result.TryAdd(key, value)) throw new ArgumentException($"{option}: {key} given twice");
        }
        return result;
    }

    /// <summary>The keys accepted by <see cref="Parse"/>.</summary>
    public static IEnumerable<string> Known => Flags.Concat(Choices.Keys).Concat(Sizes);

    /// <summary>"k=v,k=v" in a stable order, for provider lines and reports.</summary>
    public static string Format(IReadOnlyDictionary<string, string> options) =>
        string.Join(",", options.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
}
