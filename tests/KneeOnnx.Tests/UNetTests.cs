using KneeOnnx.Training.Model;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

public class UNetTests(ITestOutputHelper log)
{
    public static TheoryData<string, string> PresetsAndModes()
    {
        var data = new TheoryData<string, string>();
        foreach (var preset in Presets.Names)
            foreach (var mode in Conditioning.All)
                data.Add(preset, mode);
        return data;
    }

    [Theory]
    [MemberData(nameof(PresetsAndModes))]
    public void OutputHasTheSampleShape(string preset, string mode)
    {
        var config = Presets.Get(preset, mode, nullGrade: mode != Conditioning.None);
        manual_seed(1);
        using var model = new UNet(config);
        model.eval();
        int n = preset is Presets.Paper or Presets.Paper224 ? 1 : 3;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var sample = randn(n, 1, config.ImageSize, config.ImageSize);
        var timestep = tensor(Enumerable.Range(0, n).Select(i => (long)(i * 499)).ToArray());
        var grade = tensor(Enumerable.Range(0, n).Select(i => (long)(i % KlGrades.Count)).ToArray());
        var output = model.forward(sample, timestep, grade);
        Assert.Equal(sample.shape, output.shape);
        Assert.True(isfinite(output).all().item<bool>());
        log.WriteLine($"{preset}/{mode}: {model.ParameterCount:N0} parameters");
    }

    [Theory]
    [InlineData(Presets.Tiny)]
    [InlineData(Presets.Small)]
    [InlineData(Presets.Paper)]
    public void EveryParameterIsFiniteAtConstruction(string preset)
    {
        foreach (var mode in Conditioning.All)
        {
            using var model = new UNet(Presets.Get(preset, mode, nullGrade: true));
            foreach (var (name, p) in model.named_parameters())
                Assert.True(isfinite(p).all().item<bool>(), $"{preset}/{mode}: {name} has non-finite values at construction");
        }
    }

    [Fact]
    public void GroupNormStartsAsIdentityAffine()
    {
        using var model = new UNet(Presets.Get(Presets.Tiny));
        var norms = model.named_parameters().Where(p => p.name.Contains("norm")).ToList();
        Assert.NotEmpty(norms);
        foreach (var (name, p) in norms)
        {
            float expected = name.EndsWith(".weight") ? 1f : 0f;
            Assert.All(p.data<float>().ToArray(), v => Assert.Equal(expected, v));
        }
    }

    [Fact]
    public void PaperPresetHasTheReportsArchitecture()
    {
        var config = Presets.Get(Presets.Paper, Conditioning.Concat);
        Assert.Equal(128, config.ImageSize);
        Assert.Equal([128, 128, 256, 256, 512, 512], config.Widths);
        Assert.Equal(2, config.BlocksPerLevel);
        Assert.Equal(32, config.NormGroups);
        // Level 4 is the first 512-wide level, at 128 / 2^4 = 8×8.
        Assert.Equal([4], config.AttentionLevels);
        using var model = new UNet(config);
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("conv_in.weight", names);
        Assert.Equal(1 + 32, model.named_parameters().Single(p => p.name == "conv_in.weight").parameter.shape[1]);
        Assert.Contains(names, n => n.StartsWith("down.4.attn.0."));
        Assert.DoesNotContain(names, n => n.StartsWith("down.3.attn."));
        Assert.Contains(names, n => n.StartsWith("mid.attn.0."));
        log.WriteLine($"paper/concat: {model.ParameterCount:N0} parameters");
    }

    [Fact]
    public void GradeChangesTheOutputOnlyWhenConditional()
    {
        foreach (var mode in Conditioning.All)
        {
            manual_seed(3);
            using var model = new UNet(Presets.Get(Presets.Tiny, mode));
            model.eval();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var sample = randn(2, 1, 32, 32);
            var t = tensor(new long[] { 10, 10 });
            var a = model.forward(sample, t, tensor(new long[] { 0, 0 }));
            var b = model.forward(sample, t, tensor(new long[] { 4, 4 }));
            double diff = (a - b).abs().max().item<float>();
            if (mode == Conditioning.None) Assert.Equal(0, diff);
            else Assert.True(diff > 1e-6, $"{mode}: grade had no effect");
        }
    }
}
