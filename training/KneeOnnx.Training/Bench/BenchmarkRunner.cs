using KneeOnnx.Training.Denoising;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using KneeOnnx.Generation;
using KneeOnnx.IO;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Bench;

/// <summary>What to benchmark and how hard.</summary>
public sealed record BenchRequest
{
    public required string OutDirectory { get; init; }
    /// <summary>An exported model; null = a freshly initialised <see cref="Preset"/> (same weights on both backends either way).</summary>
    public string? Model { get; init; }
    public string Preset { get; init; } = Presets.Small;
    public int[] Batches { get; init; } = [1, 4, 16];
    public int Warmup { get; init; } = 2;
    public int Repeats { get; init; } = 5;
    /// <summary>The inference CLI's default batch: the one the headline ratios are quoted at.</summary>
    public int SampleBatch { get; init; } = 16;
    public int DdpmBatch { get; init; } = 1;
    public int DdpmSteps { get; init; } = 1000;
    public int Threads { get; init; }
    public bool Paper { get; init; } = true;
    public int RssImages { get; init; } = 16;
    public int GemmSize { get; init; } = 2048;
    public bool SessionVariants { get; init; } = true;
    public ProviderRequest Provider { get; init; } = ProviderRequest.Cpu;
    public IReadOnlyDictionary<string, string> CudaOptions { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> TrainingNetworks { get; init; } = TrainingThroughput.DefaultNetworks;
    public int TrainingBatch { get; init; } = 16;
    public bool TrainingOnly { get; init; }
    public bool TrainingChannelsLast { get; init; }

    public void Validate()
    {
        if (Batches.Length == 0 || Batches.Any(b => b < 1 || b > 256)) throw new ArgumentException($"--batches must be in 1..256, got {string.Join(",", Batches)}");
        if (!Batches.Contains(SampleBatch)) throw new ArgumentException($"--batches {string.Join(",", Batches)} must include the --sample-batch {SampleBatch}: the GEMM fraction is quoted at it");
        if (Repeats < 1) throw new ArgumentException($"--repeats must be at least 1, got {Repeats}");
        if (Warmup < 0) throw new ArgumentException($"--warmup must be >= 0, got {Warmup}");
        if (SampleBatch < 1 || DdpmBatch < 1) throw new ArgumentException("--sample-batch and --ddpm-batch must be at least 1");
        if (DdpmSteps < 1) throw new ArgumentException($"--ddpm-steps must be at least 1, got {DdpmSteps}");
        if (RssImages < 1) throw new ArgumentException($"--rss-images must be at least 1, got {RssImages}");
        if (GemmSize is < 64 or > 8192) throw new ArgumentException($"--gemm-size must be in 64..8192, got {GemmSize}");
        KneeOnnx.Validation.ThreadCount.Validate(Threads);
        foreach (var n in TrainingNetworks)
            if (!TrainingThroughput.IsKnown(n))
                throw new ArgumentException($"--training '{n}' is not a U-Net preset ({string.Join(", ", Presets.Names)}), an autoencoder preset ({string.Join(", ", Autoencoder.AutoencoderPresets.Names)}) or a classifier backbone ({string.Join(", ", Classifier.ClassifierBackbone.All)})");
        if (TrainingBatch is < 1 or > 256) throw new ArgumentException($"--training-batch must be in 1..256, got {TrainingBatch}");
        if (TrainingOnly && TrainingNetworks.Count == 0) throw new ArgumentException("--training-only with --training none measures nothing");
        if (Model is null && Presets.IsLatent(Preset))
            throw new ArgumentException($"--preset {Preset} is a latent U-Net: it needs its decoder, so bench it with --model FOLDER (or its training with --training {Preset})");
        if (Model is null && !Presets.Names.Contains(Preset)) throw new ArgumentException($"--preset '{Preset}' is not one of {string.Join(", ", Presets.Names)}");
        KneeOnnx.Validation.OutputGuard.Folder(OutDirectory, "--out", [new("--model", Model)], []);
    }
}

/// <summary>
/// One process, one run, the same weights on ONNX Runtime (through the inference library's own code path) and on
/// TorchSharp: U-Net call times per batch size, FLOPs against the machine's GEMM rate, whole sampling runs, and the
/// peak memory of a small and a 10× larger generation. Writes bench.json and bench.md.
/// </summary>
public static class BenchmarkRunner
{
    public static JsonObject Run(BenchRequest request, TextWriter log)
    {
        request.Validate();
        var wall = Stopwatch.StartNew();
        Directory.CreateDirectory(request.OutDirectory);
        int threads = request.Threads > 0 ? request.Threads : Environment.ProcessorCount;
        set_num_threads(threads);
        var runtime = new RuntimeOptions { Provider = request.Provider, IntraOpThreads = threads, CudaOptions = request.CudaOptions };
        if (request.TrainingOnly) return TrainingReport(request, threads, wall, log);

        using var work = new TempFolder(request.OutDirectory);
        var (torchModel, proto, onnxPath, label) = LoadWeights(request, work.Path);
        using var _ = torchModel;
        torchModel.eval();
        using var model = OpenModel(onnxPath, runtime);
        // Against ORT's CUDA provider, TorchSharp runs on CUDA too when this build (or --libtorch) gives it CUDA.
        var torchDevice = model.Provider == "cuda" && cuda_is_available() ? CUDA : CPU;
        torchModel.to(torchDevice);
        log.WriteLine($"TorchSharp device: {torchDevice.type.ToString().ToLowerInvariant()}");
        var info = model.Info;
        log.WriteLine($"bench: {label}; {info.ImageSize}², {torchModel.ParameterCount:N0} parameters; {threads} threads; {model.ProviderLine}");

        var machine = MachineDescription.Current(model.Provider, threads);
        log.WriteLine($"machine: {machine["cpu"]}, {machine["logicalCores"]} logical cores, {machine["os"]}");

        var flops = GraphFlops.PerImage(proto, info);
        var gemm = GemmRate.Measure(request.GemmSize, threads, request.Warmup, request.Repeats);
        log.WriteLine($"FLOPs per image per U-Net call: {flops.Total / 1e9:F3} G (conv {flops.Conv / 1e9:F3}, matmul {flops.MatMul / 1e9:F3}, gemm {flops.Gemm / 1e9:F3}); "
            + $"ORT MatMul {gemm.Size}²: {gemm.GFlops:F1} GFLOP/s");

        using var torchSampling = new TorchNoisePredictor(torchModel, info, torchDevice);
        using var estimator = new NoiseEstimator(model);
        double parity = ParityCheck(estimator, torchSampling, info);
        log.WriteLine($"same weights: max |ORT − TorchSharp| of one call = {parity:E2}");

        var calls = new JsonArray();
        int area = torchSampling.ValuesPerImage;
        foreach (int batch in request.Batches)
        {
            var x = Enumerable.Range(0, batch * area).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
            var eps = new float[batch * area];
            var ort = TimingStats.Measure(() => estimator.Predict(x, batch, 500, 1, 1.0, eps), request.Warmup, request.Repeats);
            var torch = TimingStats.Measure(() => torchSampling.Predict(x, batch, 500, 1, 1.0, eps), request.Warmup, request.Repeats);
            double ortGflops = flops.Total * batch / ort.MedianSeconds / 1e9, torchGflops = flops.Total * batch / torch.MedianSeconds / 1e9;
            log.WriteLine($"U-Net call, batch {batch,2}: ORT {ort.MedianSeconds * 1e3,8:F1} ms (±{ort.Spread:P0}, {ortGflops:F1} GFLOP/s, {ortGflops / gemm.GFlops:P0} of GEMM)  "
                + $"TorchSharp {torch.MedianSeconds * 1e3,8:F1} ms (±{torch.Spread:P0}, {torchGflops:F1} GFLOP/s)  ORT speed-up {torch.MedianSeconds / ort.MedianSeconds:F2}×");
            calls.Add(new JsonObject
            {
                ["batch"] = batch, ["ort"] = Timing(ort), ["torchSharp"] = Timing(torch),
                ["ortGflops"] = Round(ortGflops), ["torchSharpGflops"] = Round(torchGflops),
                ["ortFractionOfGemm"] = Round(ortGflops / gemm.GFlops), ["ortOverTorchSharp"] = Round(torch.MedianSeconds / ort.MedianSeconds),
            });
        }

        var sampling = new JsonArray();
        // A latent model's sampling runs include its decoder, on ONNX Runtime for both backends (it is not a TorchSharp network).
        using var decoder = model.Decoder is null ? null : new LatentDecoder(model);
        using var generator = new ImageGenerator(estimator, decoder: decoder);
        using var torchGenerator = new ImageGenerator(torchSampling, decoder: decoder);
        (string Sampler, int Steps, int Batch)[] runs =
            [("ddpm", Math.Min(request.DdpmSteps, info.Schedule.TrainTimesteps), request.DdpmBatch), ("ddim", 50, request.SampleBatch), ("dpm++2m", 20, request.SampleBatch)];
        double? headlineRatio = null, batchOneRatio = null;
        foreach (var (sampler, steps, batch) in runs)
        {
            var settings = new SamplerSettings { Sampler = sampler, Steps = steps };
            long[] indexes = Enumerable.Range(0, batch).Select(i => (long)i).ToArray();
            double ortSeconds = Time(() => generator.Generate(2, 1, indexes, settings));
            double torchSeconds = Time(() => torchGenerator.Generate(2, 1, indexes, settings));
            double ratio = torchSeconds / ortSeconds;
            log.WriteLine($"sampling {sampler}-{steps}, batch {batch,2}: ORT {batch / ortSeconds:F3} images/s, TorchSharp {batch / torchSeconds:F3} images/s, ratio {ratio:F2}");
            sampling.Add(new JsonObject
            {
                ["sampler"] = sampler, ["steps"] = steps, ["batch"] = batch,
                ["ortImagesPerSecond"] = Round(batch / ortSeconds, 4), ["torchSharpImagesPerSecond"] = Round(batch / torchSeconds, 4), ["ortOverTorchSharp"] = Round(ratio),
            });
            if (sampler == "ddim") headlineRatio = ratio;
            if (sampler == "ddpm") batchOneRatio = ratio;
        }

        JsonNode? variants = request.SessionVariants
            ? SessionVariants.Measure(onnxPath, runtime, request.SampleBatch, request.Warmup, request.Repeats, log, cuda: model.Provider == "cuda")
            : "skipped (--no-variants)";
        JsonNode? paper = request.Paper ? PaperPresetCall(request, runtime, torchDevice, work.Path, log) : "skipped (--no-paper)";
        JsonObject rss;
        try
        {
            rss = PeakMemory.Compare(onnxPath, request.RssImages, work.Path, log);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            // Minutes of timings are already measured: keep them and say what failed.
            log.WriteLine($"peak RSS not measured: {e.Message}");
            rss = new JsonObject { ["ratio"] = null, ["error"] = e.Message };
        }

        JsonNode? training = request.TrainingNetworks.Count > 0
            ? TrainingThroughput.Measure(request.TrainingNetworks, request.TrainingBatch, request.Warmup, request.Repeats, log, request.TrainingChannelsLast) : "skipped (--training none)";
        var defaultCall = calls.Select(c => c!.AsObject()).First(c => c["batch"]!.GetValue<int>() == request.SampleBatch);
        // The GEMM rate is measured on the CPU; against a CUDA U-Net it would be a meaningless fraction.
        JsonNode? fraction = request.Provider == ProviderRequest.Cpu ? defaultCall["ortFractionOfGemm"]!.DeepClone() : null;
        var report = new JsonObject
        {
            ["model"] = label,
            ["modelSha256"] = model.Sha256,
            ["imageSide"] = info.ImageSize,
            ["parameters"] = torchModel.ParameterCount,
            ["machine"] = machine,
            ["torchSharpDevice"] = torchDevice.type.ToString().ToLowerInvariant(),
            ["cudaOptions"] = CudaProviderSettings.Format(request.CudaOptions),
            ["ortOverTorchSharp"] = headlineRatio is double h ? Round(h) : null,
            ["ortOverTorchSharpBatch1"] = batchOneRatio is double b1 ? Round(b1) : null,
            ["unetFractionOfGemm"] = fraction,
            ["ddpmBatch"] = request.DdpmBatch,
            ["rssRatio"] = rss["ratio"]!.DeepClone(),
            ["defaultBatch"] = request.SampleBatch,
            ["parityMaxAbsDiff"] = parity,
            ["flopsPerImage"] = new JsonObject { ["total"] = flops.Total, ["conv"] = flops.Conv, ["matmul"] = flops.MatMul, ["gemm"] = flops.Gemm },
            ["gemm"] = new JsonObject { ["size"] = gemm.Size, ["gflops"] = Round(gemm.GFlops), ["timing"] = Timing(gemm.Timing) },
            ["unetCalls"] = calls,
            ["sampling"] = sampling,
            ["paperPresetBatch1"] = paper,
            ["sessionVariants"] = variants,
            ["peakMemory"] = rss,
            ["training"] = training,
            ["warmup"] = request.Warmup,
            ["repeats"] = request.Repeats,
            ["seconds"] = Round(wall.Elapsed.TotalSeconds, 1),
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        };
        AtomicFile.WriteAllText(Path.Combine(request.OutDirectory, "bench.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(Path.Combine(request.OutDirectory, "bench.md"), BenchMarkdown.Render(report));
        log.WriteLine($"ortOverTorchSharp {report["ortOverTorchSharp"]} (batch {request.SampleBatch}), batch 1 {report["ortOverTorchSharpBatch1"]}; "
            + $"unetFractionOfGemm {report["unetFractionOfGemm"]}; rssRatio {report["rssRatio"]}; wrote {Path.Combine(request.OutDirectory, "bench.json")} and bench.md in {wall.Elapsed.TotalSeconds:F0}s");
        return report;
    }

    /// <summary>--training-only: the machine and the training throughput, in bench.json and bench.md.</summary>
    private static JsonObject TrainingReport(BenchRequest request, int threads, Stopwatch wall, TextWriter log)
    {
        var machine = MachineDescription.Current("none", threads);
        log.WriteLine($"machine: {machine["cpu"]}, {machine["logicalCores"]} logical cores, CPU bf16: {machine["cpuBf16"]}");
        var report = new JsonObject
        {
            ["machine"] = machine,
            ["training"] = TrainingThroughput.Measure(request.TrainingNetworks, request.TrainingBatch, request.Warmup, request.Repeats, log, request.TrainingChannelsLast),
            ["warmup"] = request.Warmup, ["repeats"] = request.Repeats, ["seconds"] = Round(wall.Elapsed.TotalSeconds, 1),
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        };
        AtomicFile.WriteAllText(Path.Combine(request.OutDirectory, "bench.json"), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(Path.Combine(request.OutDirectory, "bench.md"), BenchMarkdown.RenderTraining(report));
        log.WriteLine($"wrote {Path.Combine(request.OutDirectory, "bench.json")} and bench.md in {wall.Elapsed.TotalSeconds:F0}s");
        return report;
    }

    private static KneeModel OpenModel(string path, RuntimeOptions runtime)
    {
        try
        {
            return KneeModel.Open(path, runtime);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException(e.Message, e); // --provider cuda without a usable CUDA: a one-line bad-input error
        }
    }

    private static (UNet Torch, ModelProto Proto, string Path, string Label) LoadWeights(BenchRequest request, string workDir)
    {
        if (request.Model is not null)
        {
            string unet = KneeModel.Locate(request.Model); // a model folder names its unet/model.onnx
            var (imported, proto) = OnnxWeightImporter.Read(unet);
            var net = new UNet(imported.Model);
            try
            {
                OnnxWeightImporter.LoadInto(proto, net, unet);
            }
            catch
            {
                net.Dispose();
                throw;
            }
            return (net, proto, unet, $"{Path.GetFileName(request.Model)} ({imported.Model.Preset}/{imported.Model.Conditioning}, step {imported.TrainSteps})");
        }
        var (fresh, freshProto) = FreshModel(request.Preset);
        string path = System.IO.Path.Combine(workDir, $"{request.Preset}-random.onnx");
        File.WriteAllBytes(path, freshProto.ToByteArray());
        return (fresh, freshProto, path, $"{request.Preset} preset, random initialisation (seed 1)");
    }

    private static (UNet, ModelProto) FreshModel(string preset)
    {
        manual_seed(1);
        var config = Presets.Get(preset, Conditioning.Add, nullGrade: true);
        var net = new UNet(config);
        var state = new TrainState
        {
            Step = 0, ElapsedSeconds = 0, DatasetSha256 = "none", Model = config,
            Train = new TrainConfig { Data = "none", Preset = preset },
        };
        return (net, OnnxExporter.Build(net, state, "random-init"));
    }

    private static double ParityCheck(NoiseEstimator estimator, TorchNoisePredictor torch, ModelInfo info)
    {
        int area = torch.ValuesPerImage;
        var x = Enumerable.Range(0, area).Select(i => (float)Math.Cos(i * 0.11)).ToArray();
        var a = new float[area];
        var b = new float[area];
        estimator.Predict(x, 1, info.Schedule.TrainTimesteps / 3, 3, 1.0, a);
        torch.Predict(x, 1, info.Schedule.TrainTimesteps / 3, 3, 1.0, b);
        return a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
    }

    /// <summary>The report's own U-Net (113 M parameters) at batch 1 on both backends, freshly initialised.</summary>
    private static JsonObject PaperPresetCall(BenchRequest request, RuntimeOptions runtime, Device torchDevice, string workDir, TextWriter log)
    {
        var (net, proto) = FreshModel(Presets.Paper);
        using var _ = net;
        net.eval();
        net.to(torchDevice);
        string path = Path.Combine(workDir, "paper-random.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        using var model = OpenModel(path, runtime);
        using var estimator = new NoiseEstimator(model);
        using var torch = new TorchNoisePredictor(net, model.Info, torchDevice);
        var x = Enumerable.Range(0, torch.ValuesPerImage).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
        var eps = new float[torch.ValuesPerImage];
        int repeats = Math.Min(3, request.Repeats);
        var ort = TimingStats.Measure(() => estimator.Predict(x, 1, 500, 1, 1.0, eps), 1, repeats);
        var ts = TimingStats.Measure(() => torch.Predict(x, 1, 500, 1, 1.0, eps), 1, repeats);
        log.WriteLine($"paper preset (128², {net.ParameterCount:N0} parameters), batch 1: ORT {ort.MedianSeconds * 1e3:F0} ms, TorchSharp {ts.MedianSeconds * 1e3:F0} ms, ORT speed-up {ts.MedianSeconds / ort.MedianSeconds:F2}×");
        File.Delete(path);
        return new JsonObject
        {
            ["parameters"] = net.ParameterCount, ["ort"] = Timing(ort), ["torchSharp"] = Timing(ts), ["ortOverTorchSharp"] = Round(ts.MedianSeconds / ort.MedianSeconds),
        };
    }

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static JsonObject Timing(TimingStats t) => new()
    {
        ["medianMs"] = Round(t.MedianSeconds * 1e3, 2), ["minMs"] = Round(t.MinSeconds * 1e3, 2), ["maxMs"] = Round(t.MaxSeconds * 1e3, 2), ["repeats"] = t.Repeats,
    };

    internal static double Round(double value, int digits = 3) => Math.Round(value, digits);

    /// <summary>A scratch folder inside the report folder, removed at the end however the run ends.</summary>
    private sealed class TempFolder : IDisposable
    {
        public string Path { get; }

        public TempFolder(string parent)
        {
            Path = System.IO.Path.Combine(parent, $".bench-work-{Environment.ProcessId}");
            Directory.CreateDirectory(Path);
        }

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
