using System.Text.Json.Nodes;
using KneeOnnx.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Training.Bench;

/// <summary>
/// What each ONNX Runtime session setting is worth on this machine: one U-Net call at the default batch with the
/// library's defaults and with one setting changed at a time. This is the before/after evidence for the defaults.
/// </summary>
public static class SessionVariants
{
    private static (string Name, string Expectation, RuntimeOptions Options)[] CpuVariants(RuntimeOptions defaults) =>
    [
        ("library defaults", "reference: all graph optimisations, memory pattern, sequential, intra-op threads = cores", defaults),
        ("graph optimisation: basic only", "slower: no Conv+activation fusion or NCHWc layout", defaults with { GraphOptimization = GraphOptimizationLevel.ORT_ENABLE_BASIC }),
        ("graph optimisation: extended", "near defaults: fusions without the CPU layout transform", defaults with { GraphOptimization = GraphOptimizationLevel.ORT_ENABLE_EXTENDED }),
        ("graph optimisation: none", "slowest: every node as exported", defaults with { GraphOptimization = GraphOptimizationLevel.ORT_DISABLE_ALL }),
        ("memory pattern off", "slightly slower: buffers allocated per run", defaults with { MemoryPattern = false }),
        ("intra-op threads: 1", "about half the speed on 2 cores", defaults with { IntraOpThreads = 1 }),
        ("intra-op spinning off", "slightly slower alone: idle threads sleep instead of spinning, leaving the cores to other work", defaults with { AllowSpinning = false }),
        ("parallel execution, 2 inter-op threads", "no gain: the U-Net is one chain, threads contend", defaults with { ParallelExecution = true, InterOpThreads = 2 }),
    ];

    // One CUDA provider lever at a time, then all together: the before/after of issue 13's ORT-CUDA-speed levers.
    // (io-binding is not among the CPU variants: there both paths read the same host buffers; measured equal, 881 ms.)
    private static (string Name, string Expectation, RuntimeOptions Options)[] CudaVariants(RuntimeOptions defaults)
    {
        RuntimeOptions With(params (string Key, string Value)[] extra)
        {
            var all = new Dictionary<string, string>(defaults.CudaOptions);
            foreach (var (k, v) in extra) all[k] = v;
            return defaults with { CudaOptions = all };
        }
        return
        [
            ("library defaults", "reference: ONNX Runtime's CUDA defaults plus --cuda-options", defaults),
            ("cudnn_conv_algo_search=HEURISTIC", "slower or equal: no per-shape benchmark of conv algorithms", With(("cudnn_conv_algo_search", "HEURISTIC"))),
            ("cudnn_conv_algo_search=EXHAUSTIVE", "fastest convs after a one-off search per shape", With(("cudnn_conv_algo_search", "EXHAUSTIVE"))),
            ("prefer_nhwc=1", "faster on tensor cores if the layout transposes do not eat the gain", With(("prefer_nhwc", "1"))),
            ("use_tf32=0", "slower: strict fp32 convs and GEMMs", With(("use_tf32", "0"))),
            ("use_tf32=1", "TF32 tensor cores, as PyTorch's cuDNN convs by default", With(("use_tf32", "1"))),
            ("io-binding", "small gain: buffers bound once per batch size", defaults with { IoBinding = true }),
            ("EXHAUSTIVE + prefer_nhwc + tf32 + io-binding", "the levers together", With(("cudnn_conv_algo_search", "EXHAUSTIVE"), ("prefer_nhwc", "1"), ("use_tf32", "1")) with { IoBinding = true }),
        ];
    }

    public static JsonArray Measure(string model, RuntimeOptions defaults, int batch, int warmup, int repeats, TextWriter log, bool cuda = false)
    {
        var variants = cuda ? CudaVariants(defaults) : CpuVariants(defaults);
        var rows = new JsonArray();
        double? reference = null;
        foreach (var (name, expectation, options) in variants)
        {
            using var knee = KneeModel.Open(model, options);
            using var estimator = new NoiseEstimator(knee);
            int area = knee.Info.Channels * knee.Info.ImageSize * knee.Info.ImageSize;
            var x = Enumerable.Range(0, batch * area).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
            var eps = new float[batch * area];
            var timing = TimingStats.Measure(() => estimator.Predict(x, batch, 500, 1, 1.0, eps), warmup, repeats);
            reference ??= timing.MedianSeconds;
            double relative = reference.Value / timing.MedianSeconds;
            log.WriteLine($"  session variant {name,-40} {timing.MedianSeconds * 1e3,8:F1} ms  speed {relative:F2}× of defaults");
            rows.Add(new JsonObject
            {
                ["variant"] = name, ["expected"] = expectation, ["medianMs"] = Math.Round(timing.MedianSeconds * 1e3, 2),
                ["spread"] = Math.Round(timing.Spread, 3), ["speedVsDefaults"] = Math.Round(relative, 3),
            });
        }
        return rows;
    }
}
