using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>Distilling classifier-free guidance into a student that then samples in one call per step (<see cref="GuidanceTeacher"/>).</summary>
public class GuidanceDistillationTests(TinySidedModel sided) : IClassFixture<TinySidedModel>
{
    private const int Area = 32 * 32;

    [Fact]
    public void TheTeachersTargetIsTheGuidedPredictionOnnxRuntimeMakes()
    {
        // The reference is the inference library's own guidance (ONNX Runtime, its batch layout and combination).
        using var onnx = KneeModel.Open(sided.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var ort = new NoiseEstimator(onnx);
        var (info, proto) = OnnxWeightImporter.Read(sided.Path);
        var network = new UNet(info.Model);
        OnnxWeightImporter.LoadInto(proto, network, sided.Path);
        using var teacher = new GuidanceTeacher(network, info.Model, 2.5, CPU, bf16: false);

        const int n = 3;
        var x = new float[n * Area];
        var rng = Randomness.SplitMix64.For(5, 0, 0);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        foreach (int side in new[] { KneeSides.Left, KneeSides.Right })
        {
            float[] expected = new float[n * Area];
            ort.Predict(x, n, 600, 2, 2.5, expected, side);
            using var scope = NewDisposeScope();
            float[] actual = teacher.Target(tensor(x, [n, 1, 32, 32]), full(n, 600L), full(n, 2L), full(n, (long)side)).data<float>().ToArray();
            double worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst < 1e-4, $"side {side}: the teacher's target and ONNX Runtime's guided prediction differ by {worst:E2}");
            // Guidance 2.5 is not the conditional prediction alone: the test would see a teacher that ignored the scale.
            float[] conditional = new float[n * Area];
            ort.Predict(x, n, 600, 2, 1.0, conditional, side);
            Assert.True(conditional.Zip(actual, (a, b) => Math.Abs(a - b)).Max() > 1e-3);
        }
    }

    [Fact]
    public void AStudentStartedAsItsTeacherHasNothingToLearnAtScaleOneAndSomethingAtTwo()
    {
        // At W = 1 the target is the teacher's conditional prediction (and, for rows whose labels were dropped, its
        // unconditional one): exactly what the student, a copy of the teacher, predicts before its first update.
        double FirstLoss(double scale)
        {
            using var dir = new TempDirectory();
            Distil(dir.Path, scale, steps: 1);
            return LossLog.Read(Path.Combine(dir.Path, LossLog.FileName)).Single().Loss;
        }
        Assert.True(FirstLoss(1.0) < 1e-9, $"scale 1: first loss {FirstLoss(1.0):E2}");
        Assert.True(FirstLoss(2.0) > 1e-5, $"scale 2: first loss {FirstLoss(2.0):E2}");
    }

    [Fact]
    public void DistillingNeedsATeacherAndKeepsTheOneItStartedWith()
    {
        using var dir = new TempDirectory();
        var config = Config(dir.Path, 2.0, steps: 2) with { InitFrom = null };
        var e = Assert.Throws<ArgumentException>(() => Run(config, dir.Combine("none"), resume: false));
        Assert.Contains("--distill-guidance", e.Message);
        Assert.Contains("--init-from", e.Message);

        // A resumed run reads its teacher again and refuses one that changed under it.
        string teacherCopy = dir.Combine("teacher.onnx");
        File.Copy(sided.Path, teacherCopy);
        string run = dir.Combine("run");
        Run(Config(teacherCopy, 2.0, steps: 2), run, resume: false, stopAt: 1);
        File.WriteAllBytes(teacherCopy, File.ReadAllBytes(sided.WriteWeakerVariant("weaker-teacher.onnx")));
        var changed = Assert.Throws<ArgumentException>(() => Run(Config(teacherCopy, 2.0, steps: 2), run, resume: true));
        Assert.Contains(teacherCopy, changed.Message);
        Assert.Contains("changed since the run started", changed.Message);
    }

    [Fact]
    public void TheExportCarriesTheDistilledScaleAndIsNotGuidedAgain()
    {
        using var dir = new TempDirectory();
        var (exported, _) = ExportDistilled(dir.Path, 2.0);
        using var onnx = KneeModel.Open(exported, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        Assert.Equal(2.0, onnx.Info.DistilledGuidance);
        Assert.Equal(1.0, Generation.SamplerSettings.ChooseGuidance(null, onnx.Info));
        Assert.Equal(1.0, Generation.SamplerSettings.ChooseGuidance(1.0, onnx.Info));
        var e = Assert.Throws<ArgumentException>(() => Generation.SamplerSettings.ChooseGuidance(2.0, onnx.Info));
        Assert.Contains("distilled", e.Message);
        // The teacher itself is guided as before.
        using var teacherModel = KneeModel.Open(sided.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        Assert.Null(teacherModel.Info.DistilledGuidance);
        Assert.Equal(2.0, Generation.SamplerSettings.ChooseGuidance(2.0, teacherModel.Info));

        // Continuing from the export needs the scale and a teacher that is not itself distilled.
        var plain = Assert.Throws<ArgumentException>(() => Run(Config(exported, 2.0, 2) with { DistillGuidance = null }, dir.Combine("plain"), resume: false));
        Assert.Contains("--distill-guidance 2 --teacher", plain.Message);
        var selfTaught = Assert.Throws<ArgumentException>(() => Run(Config(exported, 2.0, 2), dir.Combine("self"), resume: false));
        Assert.Contains("--teacher", selfTaught.Message);
        Run(Config(exported, 2.0, 2) with { Teacher = sided.Path }, dir.Combine("continued"), resume: false);
        Assert.Equal(2, LossLog.Read(Path.Combine(dir.Combine("continued"), LossLog.FileName)).Count);
    }

    /// <summary>A user reading the manifest, info or the card of a distilled model learns that its images are guided, and how strongly.</summary>
    [Fact]
    public void ItsManifestInfoAndCardNameTheDistilledScale()
    {
        using var dir = new TempDirectory();
        var (exported, proto) = ExportDistilled(dir.Path, 2.5);

        string outDir = dir.Combine("out");
        var (code, stdout, err) = InProcessCli.Generate("generate", "--model", exported, "--provider", "cpu", "--sampler", "ddim", "--steps", "2",
            "--grades", "1", "--per-grade", "1", "--sides", "L", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Contains("guidance 2.5 distilled into the model", stdout);
        var lines = File.ReadAllLines(Path.Combine(outDir, "manifest.csv"));
        var header = lines[0].Split(',');
        Assert.Equal("distilled_guidance", header[Array.IndexOf(header, "guidance") + 1]);
        var row = lines[1].Split(',');
        Assert.Equal(("1", "2.5"), (row[Array.IndexOf(header, "guidance")], row[Array.IndexOf(header, "distilled_guidance")]));

        var info = InProcessCli.Generate("info", "--model", exported, "--provider", "cpu");
        Assert.True(info.Code == 0, info.Err);
        Assert.Contains("guidance 2.5 distilled into the weights", info.Out);

        ModelCard.Write(exported, proto, 1, "0", "not checked", "");
        Assert.Contains("| distilled guidance | 2.5:", File.ReadAllText(ModelCard.PathFor(exported)));
        // The teacher's manifest has no such column.
        string teacherOut = dir.Combine("teacher-out");
        Assert.Equal(0, InProcessCli.Generate("generate", "--model", sided.Path, "--provider", "cpu", "--sampler", "ddim", "--steps", "2",
            "--grades", "1", "--per-grade", "1", "--sides", "L", "--out", teacherOut).Code);
        Assert.DoesNotContain("distilled_guidance", File.ReadAllLines(Path.Combine(teacherOut, "manifest.csv"))[0]);
    }

    /// <summary>One distillation step at <paramref name="scale"/>, its EMA exported to RUNDIR/distilled.onnx.</summary>
    private (string Path, Onnx.ModelProto Proto) ExportDistilled(string runDir, double scale)
    {
        Distil(runDir, scale, steps: 1);
        string exported = Path.Combine(runDir, "distilled.onnx");
        return (exported, TinyDistillation.Export(runDir, exported));
    }

    private void Distil(string runDir, double scale, int steps) => Run(Config(sided.Path, scale, steps), runDir, resume: false);

    private static TrainConfig Config(string teacher, double scale, int steps) => TinyDistillation.Config(teacher, scale, steps);

    private static void Run(TrainConfig config, string runDir, bool resume, long? stopAt = null) => TinyDistillation.Run(config, runDir, resume, stopAt);
}
