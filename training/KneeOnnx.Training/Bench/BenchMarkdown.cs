using System.Text;
using System.Text.Json.Nodes;

namespace KneeOnnx.Training.Bench;

/// <summary>bench.json as the table a person reads.</summary>
public static class BenchMarkdown
{
    public static string Render(JsonObject r)
    {
        var m = r["machine"]!;
        var sb = new StringBuilder("# KneeOnnx benchmark\n\n");
        sb.AppendLine($"Model: {r["model"]} ({r["imageSide"]}², {r["parameters"]} parameters, sha256 {r["modelSha256"]!.GetValue<string>()[..16]}…). ");
        sb.AppendLine($"Machine: {m["cpu"]}, {m["logicalCores"]} logical cores, {m["memoryGiB"]} GiB, {m["os"]}; {m["dotnet"]}; ONNX Runtime {m["onnxRuntime"]} ({m["provider"]} provider), TorchSharp {m["torchSharp"]}; {m["threads"]} threads each. {r["date"]}, {r["seconds"]} s.").AppendLine();
        sb.AppendLine("| headline | value | goal |").AppendLine("|---|---|---|");
        sb.AppendLine($"| ortOverTorchSharp (DDIM-50 images/s, batch {r["defaultBatch"]}) | {r["ortOverTorchSharp"]} | ≥ 1.1 |");
        sb.AppendLine($"| same for DDPM at batch {r["ddpmBatch"]} | {r["ortOverTorchSharpBatch1"]} | ≥ 1.3 at batch 1 |");
        sb.AppendLine($"| unetFractionOfGemm (batch {r["defaultBatch"]}) | {r["unetFractionOfGemm"]} | ≥ 0.85 |");
        sb.AppendLine($"| rssRatio (10× run ÷ small run) | {r["rssRatio"]} | ≤ 1.05 |").AppendLine();
        var f = r["flopsPerImage"]!;
        sb.AppendLine($"FLOPs per image per U-Net call {f["total"]!.GetValue<long>() / 1e9:F3} G (conv {f["conv"]!.GetValue<long>() / 1e9:F3}, matmul {f["matmul"]!.GetValue<long>() / 1e9:F3}, gemm {f["gemm"]!.GetValue<long>() / 1e9:F3}); "
            + $"ORT MatMul {r["gemm"]!["size"]}²: {r["gemm"]!["gflops"]} GFLOP/s. Same weights on both backends: max |ORT − TorchSharp| {r["parityMaxAbsDiff"]!.GetValue<double>():E2}.").AppendLine();
        sb.AppendLine($"## One U-Net call (median of {r["repeats"]} after {r["warmup"]} warm-up; spread = (max − min) / median)").AppendLine();
        sb.AppendLine("| batch | ORT ms | spread | TorchSharp ms | spread | ORT speed-up | ORT GFLOP/s | of GEMM | TorchSharp GFLOP/s |").AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var c in r["unetCalls"]!.AsArray())
        {
            var o = c!["ort"]!;
            var t = c["torchSharp"]!;
            sb.AppendLine($"| {c["batch"]} | {o["medianMs"]} | {Spread(o)} | {t["medianMs"]} | {Spread(t)} | {c["ortOverTorchSharp"]}× | {c["ortGflops"]} | {c["ortFractionOfGemm"]!.GetValue<double>():P0} | {c["torchSharpGflops"]} |");
        }
        if (r["paperPresetBatch1"] is JsonObject p)
            sb.AppendLine().AppendLine($"Paper preset (128², {p["parameters"]} parameters), batch 1: ORT {p["ort"]!["medianMs"]} ms, TorchSharp {p["torchSharp"]!["medianMs"]} ms, ORT speed-up {p["ortOverTorchSharp"]}×.");
        if (r["sessionVariants"] is JsonArray variants)
        {
            sb.AppendLine().AppendLine($"## ONNX Runtime session settings (one call, batch {r["defaultBatch"]}, one setting changed at a time)").AppendLine();
            sb.AppendLine("| variant | expected before measuring | median ms | speed vs defaults |").AppendLine("|---|---|---|---|");
            foreach (var v in variants)
                sb.AppendLine($"| {v!["variant"]} | {v["expected"]} | {v["medianMs"]} | {v["speedVsDefaults"]}× |");
        }
        sb.AppendLine().AppendLine("## Whole sampling runs (one timed run per backend; both through the library's ImageGenerator, ONNX Runtime or TorchSharp behind its noise-predictor seam)").AppendLine();
        sb.AppendLine("| sampler | steps | batch | ORT images/s | TorchSharp images/s | ORT ÷ TorchSharp |").AppendLine("|---|---|---|---|---|---|");
        foreach (var s in r["sampling"]!.AsArray())
            sb.AppendLine($"| {s!["sampler"]} | {s["steps"]} | {s["batch"]} | {s["ortImagesPerSecond"]} | {s["torchSharpImagesPerSecond"]} | {s["ortOverTorchSharp"]} |");
        if (r["training"] is JsonObject training) sb.Append(TrainingTable(training));
        var mem = r["peakMemory"]!;
        if (mem["error"] is JsonNode error)
        {
            sb.AppendLine().AppendLine($"Peak RSS not measured: {error}.");
            return sb.ToString();
        }
        sb.AppendLine().AppendLine($"Peak RSS (separate processes, {mem["sampler"]}, batch {mem["batch"]}, PNGs written): {mem["smallImages"]} images {mem["smallBytes"]!.GetValue<long>() / 1e6:F0} MB, "
            + $"{mem["largeImages"]} images {mem["largeBytes"]!.GetValue<long>() / 1e6:F0} MB, ratio {mem["ratio"]}.");
        return sb.ToString();
    }

    /// <summary>The --training-only report: machine line and the training table.</summary>
    public static string RenderTraining(JsonObject r)
    {
        var m = r["machine"]!;
        var sb = new StringBuilder("# KneeOnnx training throughput\n\n");
        sb.AppendLine($"Machine: {m["cpu"]}, {m["logicalCores"]} logical cores, {m["memoryGiB"]} GiB, {m["os"]}; CPU bf16 instructions: {m["cpuBf16"]}; TorchSharp {m["torchSharp"]}; {m["threads"]} threads. {r["date"]}, {r["seconds"]} s.");
        return sb.Append(TrainingTable(r["training"]!.AsObject())).ToString();
    }

    private static string TrainingTable(JsonObject t)
    {
        var sb = new StringBuilder();
        string layout = t["channelsLast"]?.GetValue<bool>() == true ? "; U-Net inputs channels-last" : "";
        sb.AppendLine().AppendLine($"## Training images/s (batch {t["batch"]}{layout}; median step after warm-up; U-Nets on their grids, autoencoders on 64² crops with critic and perceptual loss)").AppendLine();
        sb.AppendLine("| network | fp32 images/s | bf16 images/s | bf16 ÷ fp32 | median of per-round ratios |").AppendLine("|---|---|---|---|---|");
        foreach (var n in t["networks"]!.AsArray())
            sb.AppendLine($"| {n!["network"]} | {n["fp32"]?["imagesPerSecond"]} | {n["bf16"]?["imagesPerSecond"]?.ToString() ?? "–"} | {n["bf16OverFp32"]?.ToString() ?? "–"} | {n["bf16OverFp32Paired"]?.ToString() ?? "–"} |");
        if (t["networks"]!.AsArray().Any(n => n?["bf16OverFp32Paired"] is not null))
            sb.AppendLine().AppendLine("fp32 and bf16 steps alternate (the order flipped every round), so both see the same drift in the machine's speed.");
        return sb.ToString();
    }

    private static string Spread(JsonNode t)
    {
        double median = t["medianMs"]!.GetValue<double>();
        return median > 0 ? $"{(t["maxMs"]!.GetValue<double>() - t["minMs"]!.GetValue<double>()) / median:P0}" : "–";
    }
}
