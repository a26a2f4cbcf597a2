using System.Reflection;
using CommandLine;
using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests;

/// <summary>
/// Help as a newcomer meets it, checked against the verbs and options the two CLIs actually declare (read by
/// reflection from their [Verb] and [Option] attributes), so a verb or option added later is covered too.
/// </summary>
public class CliHelpTests
{
    private static readonly Assembly TrainCli = typeof(KneeOnnx.Training.Cli.KneeOnnxTrainCli).Assembly;
    private static readonly Assembly GenCli = typeof(KneeOnnx.Cli.KneeOnnxCli).Assembly;

    private static InProcessCli.Result Run(string tool, params string[] args) =>
        tool == "train" ? InProcessCli.Train(args) : InProcessCli.Generate(args);

    private static IEnumerable<(Type Type, VerbAttribute Verb)> Verbs(string tool) =>
        (tool == "train" ? TrainCli : GenCli).GetTypes()
            .Select(t => (Type: t, Verb: t.GetCustomAttribute<VerbAttribute>()))
            .Where(p => p.Verb is { Hidden: false })
            .Select(p => (p.Type, p.Verb!));

    private static IEnumerable<string> OptionNames(Type options) =>
        options.GetProperties().Select(p => p.GetCustomAttribute<OptionAttribute>()).Where(a => a is { Hidden: false }).Select(a => "--" + a!.LongName);

    public static TheoryData<string, string> EveryVerb()
    {
        var data = new TheoryData<string, string>();
        foreach (var tool in new[] { "train", "gen" })
            foreach (var (_, verb) in Verbs(tool))
                data.Add(tool, verb.Name);
        return data;
    }

    [Theory]
    [InlineData("train")]
    [InlineData("gen")]
    public void HelpListsEveryVerbWithItsPurpose(string tool)
    {
        var verbs = Verbs(tool).ToList();
        Assert.True(verbs.Count >= 3, $"found only {verbs.Count} verbs by reflection");
        foreach (var args in new[] { new[] { "--help" }, new[] { "help" } })
        {
            var (code, stdout, _) = Run(tool, args);
            Assert.Equal(0, code);
            foreach (var (_, verb) in verbs)
            {
                Assert.Contains(verb.Name, stdout);
                // The purpose's first words (help text wraps long lines).
                Assert.Contains(string.Join(' ', verb.HelpText.Split(' ').Take(3)), stdout);
            }
        }
    }

    [Theory]
    [MemberData(nameof(EveryVerb))]
    public void EveryVerbShowsEveryOptionBothWays(string tool, string verb)
    {
        var type = Verbs(tool).Single(v => v.Verb.Name == verb).Type;
        foreach (var args in new[] { new[] { verb, "--help" }, new[] { "help", verb } })
        {
            var (code, stdout, _) = Run(tool, args);
            Assert.Equal(0, code);
            foreach (var option in OptionNames(type))
                Assert.Contains(option, stdout);
        }
    }

    [Theory]
    [InlineData("train")]
    [InlineData("gen")]
    public void VersionPrintsTheAssemblyVersion(string tool)
    {
        var assembly = tool == "train" ? TrainCli : GenCli;
        string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        var (code, stdout, _) = Run(tool, "--version");
        Assert.Equal(0, code);
        Assert.Contains(version, stdout);
    }

    /// <summary>
    /// Every option that picks a sampler names every sampler the library runs: the help once left out dpm++3m, the
    /// shipped model's own default. The samplers are listed here by hand and each is built, so a name dropped from
    /// the library's list fails too.
    /// </summary>
    [Fact]
    public void EverySamplerOptionListsEverySampler()
    {
        string[] samplers = ["ddpm", "ddim", "dpm++2m", "dpm++3m", "dpm++2m-sde", "dpm++3m-sde"];
        var schedule = KneeOnnx.Diffusion.NoiseSchedule.Default;
        foreach (string name in samplers.Union(KneeOnnx.Schedulers.SchedulerFactory.Names))
            Assert.Equal(name, KneeOnnx.Schedulers.SchedulerFactory.Create(name, schedule, 10).Name);
        var options = new[] { TrainCli, GenCli }.SelectMany(a => a.GetTypes()).SelectMany(t => t.GetProperties())
            .Select(p => p.GetCustomAttribute<OptionAttribute>()).Where(a => a?.LongName is "sampler" or "default-sampler").ToList();
        Assert.True(options.Count >= 4, $"found only {options.Count} sampler options by reflection");
        foreach (var option in options)
            foreach (string name in samplers)
                Assert.Contains(name, option!.HelpText.Split([' ', '(', ')', ',', '.'], StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void ARenamedOptionPointsToItsNewName()
    {
        var (code, _, err) = Run("gen", "generate", "--count", "3", "--out", "x");
        Assert.Equal(KneeOnnx.Cli.KneeOnnxCli.BadInputExitCode, code);
        Assert.Contains("renamed --per-grade", err);
    }
}
