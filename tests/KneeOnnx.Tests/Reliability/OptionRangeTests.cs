using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// Every verb's own options, out of range: refused in one line naming the option, before any input is read (the
/// inputs here do not even exist) and before any file or folder is created.
/// </summary>
public class OptionRangeTests
{
    private static readonly Dictionary<string, (string Cli, string[] Args)> Verbs = new()
    {
        ["train"] = ("train", ["train", "--data", "{0}/d", "--preset", "tiny", "--out", "{0}/run"]),
        ["sample"] = ("train", ["sample", "--checkpoint", "{0}/none", "--out", "{0}/o"]),
        ["export"] = ("train", ["export", "--checkpoint", "{0}/none", "--out", "{0}/m.onnx"]),
        ["evaluate"] = ("train", ["evaluate", "--model", "{0}/m.onnx", "--data", "{0}/d", "--out", "{0}/r"]),
        ["train-classifier"] = ("train", ["train-classifier", "--data", "{0}/d", "--out", "{0}/c.kcls"]),
        ["augment-benefit"] = ("train", ["augment-benefit", "--data", "{0}/d", "--generated", "{0}/g", "--out", "{0}/o"]),
        ["bench"] = ("train", ["bench", "--out", "{0}/o"]),
        ["card"] = ("train", ["card", "--model", "{0}/m.onnx"]),
        ["generate"] = ("gen", ["generate", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/o"]),
        ["grid"] = ("gen", ["grid", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/g.png"]),
        ["info"] = ("gen", ["info", "--model", "{0}/m.onnx"]),
    };

    public static TheoryData<string, string[], string> Cases() => new()
    {
        { "train", ["--log-every", "0"], "--log-every must be at least 1" },
        { "train", ["--max-minutes", "-1"], "--max-minutes must be a positive number" },
        { "train", ["--max-minutes", "NaN"], "--max-minutes must be a positive number" },
        { "train", ["--lr", "0"], "--lr must be in (0, 1)" },
        { "train", ["--ema", "1"], "--ema must be in [0, 1)" },
        { "train", ["--label-dropout", "1"], "--label-dropout must be in [0, 1)" },
        { "train", ["--min-snr-gamma", "-1"], "--min-snr-gamma must be >= 0" },
        { "train", ["--warmup", "-1"], "--warmup must be >= 0" },
        { "train", ["--checkpoint-every", "0"], "--checkpoint-every must be at least 1" },
        { "train", ["--timesteps", "0"], "--beta-schedule/--timesteps/--beta-start/--beta-end" },
        { "sample", ["--steps", "0"], "--steps must be at least 1" },
        { "sample", ["--sampler", "euler"], "--sampler 'euler'" },
        { "sample", ["--device", "tpu"], "--device 'tpu'" },
        { "sample", ["--grades", "9"], "--grades '9'" },
        { "export", ["--tolerance", "NaN"], "--tolerance must be positive" },
        { "export", ["--tolerance", "Infinity"], "--tolerance must be positive" },
        { "export", ["--preset", "huge"], "--preset 'huge'" },
        { "evaluate", ["--per-grade", "1"], "--per-grade must be at least 2" },
        { "evaluate", ["--steps", "0"], "--steps must be at least 1" },
        { "evaluate", ["--sampler", "euler"], "--sampler 'euler'" },
        { "evaluate", ["--limit", "0"], "--limit must be at least 1" },
        { "evaluate", ["--eta", "-0.5"], "--eta must be in 0..1" },
        { "generate", ["--eta", "1.5"], "--eta must be in 0..1" },
        { "evaluate", ["--augment", "--augment-epochs", "0"], "--augment-epochs must be at least 1" },
        { "evaluate", ["--augment-per-grade", "0"], "--augment-per-grade must be at least 1" },
        { "train-classifier", ["--size", "8"], "--size must be in 16..512" },
        { "train-classifier", ["--epochs", "0"], "--epochs must be at least 1" },
        { "train-classifier", ["--batch", "0"], "--batch must be at least 1" },
        { "train-classifier", ["--lr", "2"], "--lr must be in (0, 1)" },
        { "augment-benefit", ["--per-grade", "0"], "--per-grade must be at least 1" },
        { "augment-benefit", ["--size", "1000"], "--size must be in 16..512" },
        { "augment-benefit", ["--epochs", "0"], "--epochs must be at least 1" },
        { "bench", ["--repeats", "0"], "--repeats must be at least 1" },
        { "bench", ["--warmup", "-1"], "--warmup must be >= 0" },
        { "bench", ["--gemm-size", "10"], "--gemm-size must be in 64..8192" },
        { "bench", ["--batches", "x"], "--batches must be comma-separated integers" },
        { "bench", ["--batches", "0"], "--batches must be in 1..256" },
        { "bench", ["--batches", "1,4"], "must include the --sample-batch 16" },
        { "bench", ["--provider", "tpu"], "--provider must be cpu or cuda" },
        { "bench", ["--preset", "huge"], "--preset 'huge'" },
        { "bench", ["--ddpm-steps", "0"], "--ddpm-steps must be at least 1" },
        { "bench", ["--rss-images", "0"], "--rss-images must be at least 1" },
        { "card", ["--recommend-steps", "0"], "--recommend-steps must be at least 1" },
        { "card", ["--recommend-sampler", "euler"], "--recommend-sampler 'euler'" },
        { "generate", ["--sheet-columns", "0"], "--sheet-columns must be at least 1" },
        { "generate", ["--sampler", "euler"], "--sampler 'euler'" },
        { "generate", ["--clip-x0", "maybe"], "--clip-x0 'maybe'" },
        { "generate", ["--device-id", "-1"], "--device-id must be >= 0" },
        { "grid", ["--per-grade", "65"], "--per-grade must be in 1..64" },
        { "grid", ["--tile", "4"], "--tile must be in 8..1024" },
        { "grid", ["--eta", "2"], "--eta must be in 0..1" },
        { "grid", ["--guidance", "-1"], "--guidance must be in 0..50" },
        { "info", ["--provider", "tpu"], "--provider 'tpu'" },
        { "info", ["--device-id", "-1"], "--device-id must be >= 0" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutOfRangeOptionsAreRefusedBeforeAnyInputIsRead(string verb, string[] option, string expected)
    {
        using var dir = new TempDirectory();
        var (cli, template) = Verbs[verb];
        string[] args = [.. template.Select(a => a.Replace("{0}", dir.Path)), .. option];
        var result = cli == "train" ? InProcessCli.Train(args) : InProcessCli.Generate(args);
        Refusal.Check(result, expected);
        Assert.Empty(Refusal.Tree(dir.Path));
    }
}
