using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Validation;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// Every --threads of both CLIs goes through one rule (0 = all cores, else 1 … 4 × cores): a negative or huge value
/// is refused at once instead of spending minutes creating threads (--threads 100000 used to hang train-classifier and info).
/// </summary>
public class ThreadOptionTests
{
    /// <summary>Each verb with a --threads option, with just enough other arguments to reach the check; {0} is the scratch folder.</summary>
    public static readonly (string Cli, string[] Args)[] Verbs =
    [
        ("train", ["train", "--data", "{0}", "--out", "{0}/run", "--preset", "tiny"]),
        ("train", ["sample", "--checkpoint", "{0}/none", "--out", "{0}/o"]),
        ("train", ["train-classifier", "--data", "{0}", "--out", "{0}/c.kcls"]),
        ("train", ["augment-benefit", "--data", "{0}", "--generated", "{0}/g", "--out", "{0}/o"]),
        ("train", ["bench", "--out", "{0}/o"]),
        ("train", ["evaluate", "--generated", "{0}/g", "--data", "{0}", "--out", "{0}/o"]),
        ("gen", ["generate", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/o"]),
        ("gen", ["grid", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/g.png"]),
        ("gen", ["info", "--model", "{0}/m.onnx", "--provider", "cpu"]),
    ];

    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        for (int verb = 0; verb < Verbs.Length; verb++)
            foreach (string value in new[] { "-1", "100000", (ThreadCount.Maximum + 1).ToString() })
                data.Add(verb, value);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutOfRangeThreadCountsAreRefusedBeforeAnythingIsCreated(int verb, string value)
    {
        using var dir = new TempDirectory();
        var (cli, template) = Verbs[verb];
        string[] args = [.. template.Select(a => a.Replace("{0}", dir.Path)), "--threads", value];
        var result = cli == "train" ? InProcessCli.Train(args) : InProcessCli.Generate(args);
        Refusal.Check(result, $"--threads must be 0 (all cores) or in 1..{ThreadCount.Maximum}");
        Assert.Contains(value, result.Err);
        Assert.Empty(Refusal.Tree(dir.Path));
    }

    [Fact]
    public void ZeroMeansAllCoresAndTheMaximumIsAccepted()
    {
        Assert.Equal(Environment.ProcessorCount, ThreadCount.Resolve(0));
        Assert.Equal(ThreadCount.Maximum, ThreadCount.Validate(ThreadCount.Maximum));
        Assert.Equal(ThreadCount.PerCore * Environment.ProcessorCount, ThreadCount.Maximum);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void ALibraryCallersThreadCountIsRefusedInItsOwnTerms(int threads)
    {
        // Not in CLI wording: a library caller never typed --threads.
        var e = Assert.Throws<ArgumentException>(() => KneeOnnx.Runtime.ProviderChoice.Create(
            new KneeOnnx.Runtime.RuntimeOptions { Provider = KneeOnnx.Runtime.ProviderRequest.Cpu, IntraOpThreads = threads }));
        Assert.StartsWith("RuntimeOptions.IntraOpThreads must be 0 (all cores)", e.Message);
        Assert.Contains(threads.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void ZeroGivesOnnxRuntimeEveryCoreNotItsOwnDefault()
    {
        // ONNX Runtime's own default (0) is half the logical cores on Linux: one thread on a 2-core machine.
        var (options, provider, _) = KneeOnnx.Runtime.ProviderChoice.Create(new KneeOnnx.Runtime.RuntimeOptions { Provider = KneeOnnx.Runtime.ProviderRequest.Cpu });
        using (options)
        {
            Assert.Equal("cpu", provider);
            Assert.Equal(Environment.ProcessorCount, options.IntraOpNumThreads);
        }
    }
}
