using CommandLine;
using KneeOnnx.Training.Bench;

namespace KneeOnnx.Training.Cli;

[Verb("bench", HelpText = "Time ONNX Runtime against TorchSharp on the same weights (U-Net calls, sampling runs), against this machine's GEMM rate, and peak memory; writes OUT/bench.json and bench.md.")]
public sealed class BenchOptions : TorchOptions
{
    [Option("out", Required = true, HelpText = "Report folder.")]
    public string Out { get; set; } = "";

    [Option("model", HelpText = "An exported KneeOnnx .onnx (its weights are loaded into TorchSharp too). Default: a freshly initialised --preset.")]
    public string? Model { get; set; }

    [Option("preset", Default = "small", HelpText = "Preset to initialise when no --model is given: tiny | small | paper.")]
    public string Preset { get; set; } = "small";

    [Option("batches", Default = "1,4,16", HelpText = "Batch sizes of the single-call timings.")]
    public string Batches { get; set; } = "1,4,16";

    [Option("repeats", Default = 5, HelpText = "Timed repeats per measurement (median reported).")]
    public int Repeats { get; set; }

    [Option("warmup", Default = 2, HelpText = "Untimed runs before each measurement.")]
    public int Warmup { get; set; }

    [Option("sample-batch", Default = 16, HelpText = "Batch of the DDIM-50 and DPM-Solver-20 runs (the inference CLI's default).")]
    public int SampleBatch { get; set; }

    [Option("ddpm-batch", Default = 1, HelpText = "Batch of the DDPM run.")]
    public int DdpmBatch { get; set; }

    [Option("ddpm-steps", Default = 1000, HelpText = "Steps of the DDPM run (1000 = every training timestep).")]
    public int DdpmSteps { get; set; }

    [Option("rss-images", Default = 16, HelpText = "Images of the small peak-memory run; the large one makes 10× as many.")]
    public int RssImages { get; set; }

    [Option("gemm-size", Default = 2048, HelpText = "Side of the square MatMul that measures the machine's GEMM rate.")]
    public int GemmSize { get; set; }

    [Option("threads", Default = 0, HelpText = "Threads for both backends (0 = all cores; at most 4 × the logical cores).")]
    public int Threads { get; set; }

    [Option("no-variants", HelpText = "Skip the ONNX Runtime session-option comparison.")]
    public bool NoVariants { get; set; }

    [Option("provider", Default = "cpu", HelpText = "ONNX Runtime provider: cpu | cuda (TorchSharp then runs on CUDA too when it can: a CUDA build or --libtorch).")]
    public string Provider { get; set; } = "cpu";

    [Option("cuda-options", HelpText = "ONNX Runtime CUDA provider options for every session, key=value,... (see kneeonnx-gen --help); --provider cuda also times each lever as a session variant.")]
    public string? CudaOptions { get; set; }

    [Option("no-paper", HelpText = "Skip the paper preset's batch-1 call (needs ~3 GB).")]
    public bool NoPaper { get; set; }

    [Option("training", Default = "small,latent-s,latent-m,kl-f4", HelpText = "Networks whose training images/s are measured in fp32 and bf16 (U-Net presets, autoencoder presets, classifier backbones such as resnet18-imagenet); 'none' to skip.")]
    public string Training { get; set; } = "";

    [Option("training-batch", Default = 16, HelpText = "Batch of the training-throughput steps (images, or crops for an autoencoder).")]
    public int TrainingBatch { get; set; }

    [Option("training-only", HelpText = "Measure only the training throughput (no inference timings).")]
    public bool TrainingOnly { get; set; }

    [Option("training-channels-last", HelpText = "Lay the U-Nets' training input out channels-last (NHWC strides), to compare with a run without.")]
    public bool TrainingChannelsLast { get; set; }

    public BenchRequest ToRequest()
    {
        int[] batches;
        try
        {
            batches = Batches.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new ArgumentException($"--batches must be comma-separated integers, got '{Batches}'");
        }
        return new BenchRequest
        {
            OutDirectory = Out, Model = Model, Preset = Preset, Batches = batches, Repeats = Repeats, Warmup = Warmup, SampleBatch = SampleBatch,
            DdpmBatch = DdpmBatch, DdpmSteps = DdpmSteps, RssImages = RssImages, GemmSize = GemmSize, Threads = Threads, Paper = !NoPaper,
            SessionVariants = !NoVariants, TrainingBatch = TrainingBatch, TrainingOnly = TrainingOnly, TrainingChannelsLast = TrainingChannelsLast,
            TrainingNetworks = Training == "none" ? [] : Training.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            CudaOptions = Runtime.CudaProviderSettings.Parse(CudaOptions),
            Provider = Provider switch
            {
                "cpu" => Runtime.ProviderRequest.Cpu,
                "cuda" => Runtime.ProviderRequest.Cuda,
                _ => throw new ArgumentException($"--provider must be cpu or cuda, got '{Provider}'"),
            },
        };
    }
}

/// <summary>The peak-memory child of <c>bench</c>; not for direct use.</summary>
[Verb(PeakMemory.ChildVerb, Hidden = true)]
public sealed class BenchGenerateOptions
{
    [Option("model", Required = true)] public string Model { get; set; } = "";
    [Option("count", Required = true)] public int Count { get; set; }
    [Option("out", Required = true)] public string Out { get; set; } = "";
}
