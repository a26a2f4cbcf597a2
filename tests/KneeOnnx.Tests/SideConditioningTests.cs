using Google.Protobuf;
using KneeOnnx.Generation;
using KneeOnnx.Output;
using KneeOnnx.Runtime;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Denoising;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static TorchSharp.torch;

namespace KneeOnnx.Tests;

/// <summary>A briefly trained side-conditioned tiny model, exported once for the side tests.</summary>
public sealed class TinySidedModel() : TinyOnnxModel(sides: true, steps: 4);

public class SideConditioningTests(TinySidedModel sided) : IClassFixture<TinySidedModel>
{
    [Theory]
    [InlineData("9003175L.png", KneeSides.Left)]
    [InlineData("/data/train/2/9003175R.png", KneeSides.Right)]
    [InlineData("9003175r.PNG", KneeSides.Right)]
    [InlineData("kl2_ddpm50_s1_000003.png", KneeSides.None)]
    [InlineData("L.png", KneeSides.None)]
    public void TheSideIsReadFromTheDatasetsFileNames(string name, int expected) => Assert.Equal(expected, KneeSides.FromFileName(name));

    /// <summary>The marker of <see cref="SyntheticKnees.SidedPixels"/> sits on the image's right for a left knee: read it back from the pixels.</summary>
    private static int SideShownBy(ReadOnlySpan<float> image, int width)
    {
        double left = 0, right = 0;
        for (int y = width * 2 / 3; y < width; y++)
            for (int x = 0; x < width / 4; x++)
            {
                left += image[y * width + x];
                right += image[y * width + width - 1 - x];
            }
        return right > left ? KneeSides.Left : KneeSides.Right;
    }

    [Fact]
    public void AFlippedKneeIsLabelledWithTheOtherSide()
    {
        const int width = 32;
        var (images, grades) = SyntheticKnees.SidedInMemory(4, width);
        var data = KneeDataset.FromMemory(width, images, grades, sides: SyntheticKnees.SideOfIndex(images.Length));
        var config = new TrainConfig { Data = "memory", Preset = Presets.Tiny, BatchSize = 8, LabelDropout = 0, Sides = true, Seed = 5 };
        var batches = new BatchBuilder(data, new GradeSampler(data.Grades, config.Balance), config, nullGrade: -1, sides: true);
        int checkedImages = 0, rightLabels = 0;
        for (long step = 0; step < 20; step++)
        {
            var (batch, _, sides, _, _) = batches.Build(step);
            using (batch)
            using (sides)
            {
                float[] pixels = batch.data<float>().ToArray();
                long[] labels = sides!.data<long>().ToArray();
                for (int b = 0; b < labels.Length; b++)
                {
                    int shown = SideShownBy(pixels.AsSpan(b * width * width, width * width), width);
                    Assert.Equal(shown, (int)labels[b]);
                    checkedImages++;
                }
                rightLabels += labels.Count(l => l == KneeSides.Right);
            }
        }
        // Half the draws are flipped, so an unmirrored label would disagree with the pixels about half the time.
        Assert.Equal(160, checkedImages);
        Assert.InRange(rightLabels, 40, 120);
    }

    [Fact]
    public void ATinyModelLearnsToDrawTheSideItIsAskedFor()
    {
        // The side marker is the only left/right difference in these images, so a model that heeds its side input
        // draws the marker on the right for L and on the left for R; one that ignores it gets half wrong.
        using var dir = new TempDirectory();
        const int width = 32;
        var (images, grades) = SyntheticKnees.SidedInMemory(16, width);
        var config = new TrainConfig
        {
            Data = "memory", Preset = Presets.Tiny, Steps = 300, BatchSize = 16, LearningRate = 1e-3, WarmupSteps = 20, Sides = true, Seed = 4,
        };
        Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = dir.Path, Threads = 1, Device = "cpu", Output = new StringWriter(),
            Preloaded = KneeDataset.FromMemory(width, images, grades, sides: SyntheticKnees.SideOfIndex(images.Length)),
        });
        string checkpoint = Path.Combine(dir.Path, Checkpoint.FileName);
        var (state, model) = Checkpoint.LoadModel(checkpoint);
        using var _ = model;
        using var predictor = new TorchNoisePredictor(model, TorchNoisePredictor.InfoFor(state, checkpoint));
        using var generator = new ImageGenerator(predictor);
        var settings = new SamplerSettings { Sampler = "ddpm", Steps = 50 };
        int right = 0, total = 0;
        foreach (int side in new[] { KneeSides.Left, KneeSides.Right })
        {
            float[] drawn = generator.Generate(2, 1, Enumerable.Range(0, 8).Select(i => (long)i).ToArray(), settings, side: side);
            for (int i = 0; i < 8; i++, total++)
                right += SideShownBy(drawn.AsSpan(i * width * width, width * width), width) == side ? 1 : 0;
        }
        // Deterministic on one thread: 13 of 16 here; a model blind to the side scores about 8 (12 or more has 4% chance then).
        Assert.True(right >= 12, $"{right} of {total} generated knees show the side they were asked for");
    }

    [Fact]
    public void GradeAndSideAreDroppedTogetherAndTheSideAlsoAlone()
    {
        var (images, grades) = SyntheticKnees.SidedInMemory(4, 8);
        var data = KneeDataset.FromMemory(8, images, grades, sides: SyntheticKnees.SideOfIndex(images.Length));
        var config = new TrainConfig { Data = "memory", Preset = Presets.Tiny, BatchSize = 50, LabelDropout = 0.2, Sides = true, Seed = 9 };
        var batches = new BatchBuilder(data, new GradeSampler(data.Grades, config.Balance), config, nullGrade: KlGrades.Count, sides: true);
        int n = 0, nullGrades = 0, nullSides = 0;
        for (long step = 0; step < 100; step++)
        {
            var (batch, g, s, t, _) = batches.Build(step);
            using (batch) using (g) using (s) using (t)
            {
                long[] gradeLabels = g.data<long>().ToArray(), sideLabels = s!.data<long>().ToArray();
                for (int i = 0; i < gradeLabels.Length; i++, n++)
                {
                    bool nullGrade = gradeLabels[i] == KlGrades.Count, nullSide = sideLabels[i] == KneeSides.Null;
                    Assert.True(!nullGrade || nullSide, "a dropped grade must drop the side too (the guidance baseline is fully unconditional)");
                    nullGrades += nullGrade ? 1 : 0;
                    nullSides += nullSide ? 1 : 0;
                }
            }
        }
        // P(null grade) = p = 0.2; P(null side) = p + (1 − p)·p = 0.36. 5,000 draws: standard errors 0.006 and 0.007.
        Assert.InRange(nullGrades / (double)n, 0.17, 0.23);
        Assert.InRange(nullSides / (double)n, 0.33, 0.39);
    }

    [Fact]
    public void AddingSidesToAGradeOnlyModelChangesNoPredictionUntilTrained()
    {
        using var dir = new TempDirectory();
        string checkpoint = TinyRuns.Train(dir.Combine("run"), steps: 3);
        var (state, gradeOnly) = Checkpoint.LoadModel(checkpoint);
        string onnx = dir.Combine("grade-only.onnx");
        using (gradeOnly)
            File.WriteAllBytes(onnx, OnnxExporter.Build(gradeOnly, state, "ema").ToByteArray());

        var (info, proto) = OnnxWeightImporter.Read(onnx);
        using var withSides = new UNet(info.Model with { SideConditioned = true });
        OnnxWeightImporter.LoadInto(proto, withSides, onnx, OnnxWeightImporter.SideEmbeddingPrefix);
        withSides.eval();

        // The reference is the original file run by ONNX Runtime, not the TorchSharp network it came from.
        using var session = new InferenceSession(onnx);
        const int n = 3, side = 32;
        manual_seed(4);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn(n, 1, side, side);
        long[] t = [10, 500, 990], g = [0, 2, 5];
        using var xs = OrtValue.CreateTensorValueFromMemory(x.data<float>().ToArray(), [n, 1, side, side]);
        using var ts = OrtValue.CreateTensorValueFromMemory(t, [n]);
        using var gs = OrtValue.CreateTensorValueFromMemory(g, [n]);
        using var outputs = session.Run(new RunOptions(), [ModelContract.SampleInput, ModelContract.TimestepInput, ModelContract.GradeInput], [xs, ts, gs], [ModelContract.NoiseOutput]);
        float[] reference = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        foreach (long s in new long[] { KneeSides.Left, KneeSides.Right, KneeSides.Null })
        {
            float[] actual = withSides.forward(x, tensor(t), tensor(g), full(n, s, ScalarType.Int64)).data<float>().ToArray();
            Assert.Equal(reference.Length, actual.Length);
            double worst = reference.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst < 1e-4, $"side {s}: the new side embedding changed the prediction by {worst:E2}");
        }
    }

    [Fact]
    public void TheExportedSideInputMatchesTorchSharpForEverySideAndGuidance()
    {
        var (state, model) = Checkpoint.LoadModel(sided.Checkpoint);
        using var _ = model;
        using var onnx = KneeModel.Open(sided.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        Assert.True(onnx.Info.IsSideConditioned);
        Assert.Equal(["L", "R"], onnx.Info.SideNames);
        Assert.Equal(KneeSides.Null, onnx.Info.NullSide);
        using var ort = new NoiseEstimator(onnx);
        using var torchSide = new TorchNoisePredictor(model, TorchNoisePredictor.InfoFor(state, sided.Checkpoint));
        const int n = 2, area = 32 * 32;
        var x = new float[n * area];
        var rng = Randomness.SplitMix64.For(3, 0, 0);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var bySide = new Dictionary<int, float[]>();
        foreach (int s in new[] { KneeSides.Left, KneeSides.Right, KneeSides.None })
            foreach (double w in new[] { 1.0, 2.5 })
            {
                float[] a = new float[n * area], b = new float[n * area];
                ort.Predict(x, n, 400, 3, w, a, s);
                torchSide.Predict(x, n, 400, 3, w, b, s);
                double worst = a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
                Assert.True(worst < 1e-4, $"side {s}, guidance {w}: ONNX and TorchSharp differ by {worst:E2}");
                if (w == 1.0) bySide[s] = a;
            }
        // The side reaches the network: four training steps moved the zero-initialised projection off zero.
        double lr = bySide[KneeSides.Left].Zip(bySide[KneeSides.Right], (p, q) => Math.Abs(p - q)).Max();
        Assert.True(lr > 1e-6, $"L and R predictions are identical ({lr:E2}): the side input is not wired");
    }

    /// <summary>
    /// Guided noise from one call of 2n rows against Ho &amp; Salimans' formula on two separate unguided calls (the grade
    /// and side asked for; the null grade and null side), on both predictors: catches a batch laid out with the wrong
    /// rows conditioned, the halves swapped or the side left on the unconditional half.
    /// </summary>
    [Fact]
    public void GuidedNoiseIsTheNullPredictionPlusScaledDifferenceOfTwoSeparateCalls()
    {
        var (state, model) = Checkpoint.LoadModel(sided.Checkpoint);
        using var _ = model;
        using var onnx = KneeModel.Open(sided.Path, new RuntimeOptions { Provider = ProviderRequest.Cpu });
        using var ort = new NoiseEstimator(onnx);
        using var torchSide = new TorchNoisePredictor(model, TorchNoisePredictor.InfoFor(state, sided.Checkpoint));
        const int n = 3, area = 32 * 32;
        const double w = 3.0;
        var x = new float[n * area];
        var rng = Randomness.SplitMix64.For(5, 0, 0);
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        foreach (INoisePredictor predictor in new INoisePredictor[] { ort, torchSide })
        {
            float[] conditional = new float[n * area], unconditional = new float[n * area], guided = new float[n * area];
            predictor.Predict(x, n, 300, 4, 1.0, conditional, KneeSides.Right);
            predictor.Predict(x, n, 300, onnx.Info.NullGrade, 1.0, unconditional, KneeSides.None);
            predictor.Predict(x, n, 300, 4, w, guided, KneeSides.Right);
            double worst = 0, moved = 0;
            for (int i = 0; i < guided.Length; i++)
            {
                double expected = unconditional[i] + w * (conditional[i] - unconditional[i]);
                worst = Math.Max(worst, Math.Abs(guided[i] - expected));
                moved = Math.Max(moved, Math.Abs(conditional[i] - unconditional[i]));
            }
            Assert.True(moved > 1e-6, $"{predictor.GetType().Name}: the grade and side do not change the prediction ({moved:E2}), so the check is empty");
            Assert.True(worst < 1e-4, $"{predictor.GetType().Name}: guided noise is {worst:E2} from ε_null + w·(ε_cond − ε_null)");
        }
    }

    [Fact]
    public void ASideAskedOfAGradeOnlyModelIsRefused()
    {
        using var dir = new TempDirectory();
        var (state, model) = Checkpoint.LoadModel(TinyRuns.Train(dir.Combine("run"), steps: 1));
        using var _ = model;
        using var predictor = new TorchNoisePredictor(model, TorchNoisePredictor.InfoFor(state, "grade-only"));
        var x = new float[32 * 32];
        var e = Assert.Throws<ArgumentException>(() => predictor.Predict(x, 1, 10, 1, 1.0, new float[32 * 32], KneeSides.Left));
        Assert.Contains("not side-conditioned", e.Message);
    }

    public static TheoryData<string, string?, string?, string> ContradictorySideMetadata() => new()
    {
        { "no-names.onnx", null, "2", "must be given together" },
        { "no-null.onnx", "[\"L\",\"R\"]", null, "must be given together" },
        { "null-3.onnx", "[\"L\",\"R\"]", "3", "contradictory side metadata" },
        { "names-lx.onnx", "[\"L\",\"X\"]", "2", "must be [\"L\",\"R\"]" },
        { "names-json.onnx", "L,R", "2", "not a JSON list" },
    };

    [Theory]
    [MemberData(nameof(ContradictorySideMetadata))]
    public void ContradictorySideMetadataIsRefusedNamingTheFile(string name, string? sides, string? nullSide, string expected)
    {
        string path = sided.WriteVariant(name, m =>
        {
            m.MetadataProps.Remove(m.MetadataProps.First(p => p.Key == ModelContract.Keys.Sides));
            m.MetadataProps.Remove(m.MetadataProps.First(p => p.Key == ModelContract.Keys.NullSide));
            if (sides is not null) OnnxExporter.SetMetadata(m, ModelContract.Keys.Sides, sides);
            if (nullSide is not null) OnnxExporter.SetMetadata(m, ModelContract.Keys.NullSide, nullSide);
        });
        var (code, _, err) = InProcessCli.Generate("info", "--model", path, "--provider", "cpu");
        Assert.Equal(2, code);
        Assert.Contains(path, err);
        Assert.Contains(expected, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void ASideInputWithoutSideMetadataIsRefused()
    {
        string path = sided.WriteVariant("no-side-meta.onnx", m =>
        {
            m.MetadataProps.Remove(m.MetadataProps.First(p => p.Key == ModelContract.Keys.Sides));
            m.MetadataProps.Remove(m.MetadataProps.First(p => p.Key == ModelContract.Keys.NullSide));
        });
        var (code, _, err) = InProcessCli.Generate("info", "--model", path, "--provider", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("has a 'side' input but no 'kneeonnx.sides' metadata", err);
    }

    [Fact]
    public void GenerateWritesEachRequestedSideWithItsNameAndManifestColumn()
    {
        using var dir = new TempDirectory();
        string[] args = ["generate", "--model", sided.Path, "--provider", "cpu", "--grades", "1,3", "--per-grade", "2", "--sides", "L,R", "--steps", "3", "--seed", "4", "--out", dir.Combine("a")];
        var (code, stdout, err) = InProcessCli.Generate(args);
        Assert.True(code == 0, err);
        Assert.Contains("sides L,R", stdout);
        var files = Directory.GetFiles(dir.Combine("a"), "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir.Combine("a"), f).Replace('\\', '/')).Order().ToArray();
        Assert.Equal(
            [
                "1/kl1_L_ddpm3_s4_000000.png", "1/kl1_L_ddpm3_s4_000001.png", "1/kl1_R_ddpm3_s4_000000.png", "1/kl1_R_ddpm3_s4_000001.png",
                "3/kl3_L_ddpm3_s4_000000.png", "3/kl3_L_ddpm3_s4_000001.png", "3/kl3_R_ddpm3_s4_000000.png", "3/kl3_R_ddpm3_s4_000001.png",
            ], files);
        string[] manifest = File.ReadAllLines(dir.Combine("a", "manifest.csv"));
        Assert.Equal(Manifest.SideHeader, manifest[0]);
        foreach (string row in manifest.Skip(1))
        {
            string[] cells = row.Split(',');
            Assert.Equal(cells[0].Contains("_L_") ? "L" : "R", cells[3]);
        }

        // The same request again from scratch gives the same bytes; L and R of one index start from different noise.
        Assert.Equal(0, InProcessCli.Generate([.. args[..^1], dir.Combine("b")]).Code);
        foreach (string file in files)
            Assert.Equal(File.ReadAllBytes(dir.Combine("a", file)), File.ReadAllBytes(dir.Combine("b", file)));
        Assert.NotEqual(File.ReadAllBytes(dir.Combine("a", files[0])), File.ReadAllBytes(dir.Combine("a", files[2])));
    }

    [Fact]
    public void WithoutSidesASideConditionedModelGeneratesEitherSide()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Generate("generate", "--model", sided.Path, "--provider", "cpu", "--grades", "2", "--per-grade", "1", "--steps", "2", "--out", dir.Path);
        Assert.True(code == 0, err);
        Assert.Equal("kl2_any_ddpm2_s0_000000.png", Path.GetFileName(Assert.Single(Directory.GetFiles(dir.Combine("2")))));
        Assert.Equal("any", File.ReadAllLines(dir.Combine("manifest.csv"))[1].Split(',')[3]);
    }

    [Theory]
    [InlineData("L,X", "'X' is not one of L, R")]
    [InlineData("L,L", "L is given twice")]
    [InlineData("left", "'left' is not one of L, R")]
    public void BadSideListsAreRefused(string sides, string expected)
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Generate("generate", "--model", sided.Path, "--provider", "cpu", "--per-grade", "1", "--steps", "2", "--sides", sides, "--out", dir.Combine("o"));
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
        Assert.False(Directory.Exists(dir.Combine("o", "0")), "a refused request wrote a grade folder");
    }

    [Fact]
    public void GridShowsARowPerGradeAndSide()
    {
        using var dir = new TempDirectory();
        string png = dir.Combine("grid.png");
        var (code, stdout, err) = InProcessCli.Generate("grid", "--model", sided.Path, "--provider", "cpu", "--grades", "0,4", "--sides", "L,R", "--per-grade", "2", "--steps", "2", "--tile", "32", "--out", png);
        Assert.True(code == 0, err);
        Assert.Contains("4 rows × 2 columns (KL-0 None L, KL-0 None R, KL-4 Severe L, KL-4 Severe R", stdout);
        string one = dir.Combine("one.png");
        Assert.Equal(0, InProcessCli.Generate("grid", "--model", sided.Path, "--provider", "cpu", "--grades", "0", "--sides", "L", "--per-grade", "2", "--steps", "2", "--tile", "32", "--out", one).Code);
        using var image = SixLabors.ImageSharp.Image.Load(png);
        using var oneRow = SixLabors.ImageSharp.Image.Load(one);
        Assert.Equal(oneRow.Width, image.Width);
        Assert.True(image.Height >= 3 * 32 + oneRow.Height, $"4 rows ({image.Height} px) should add three 32-px rows to one row's {oneRow.Height} px");
    }

    [Fact]
    public void SampleFromACheckpointMatchesGenerateFromItsExportPerSide()
    {
        using var dir = new TempDirectory();
        string[] common = ["--grades", "2", "--per-grade", "1", "--sides", "R", "--steps", "3", "--seed", "6"];
        var sample = InProcessCli.Train(["sample", "--checkpoint", sided.Checkpoint, "--out", dir.Combine("torch"), "--device", "cpu", .. common]);
        Assert.True(sample.Code == 0, sample.Err);
        var generate = InProcessCli.Generate(["generate", "--model", sided.Path, "--provider", "cpu", "--out", dir.Combine("ort"), .. common]);
        Assert.True(generate.Code == 0, generate.Err);
        const string name = "2/kl2_R_ddpm3_s6_000000.png";
        var reader = new Imaging.GrayImageReader();
        float[] a = reader.ReadScaled(dir.Combine("torch", name), 32), b = reader.ReadScaled(dir.Combine("ort", name), 32);
        // TorchSharp and ONNX Runtime differ in the last float bits; after 8-bit quantisation at most one gray level.
        Assert.True(a.Zip(b, (p, q) => Math.Abs(p - q)).Max() <= 1.01f / 127.5f, "sample and generate disagree by more than one gray level");
    }

    [Fact]
    public void GuidedSampleFromACheckpointMatchesGuidedGenerateFromItsExport()
    {
        // A guided DDPM-1000 reference is sampled from a checkpoint on a GPU (docs/samplers.md); it must be the
        // guidance kneeonnx-gen applies, which is ONNX Runtime's independent implementation of the guided batch.
        using var dir = new TempDirectory();
        string[] common = ["--grades", "3", "--per-grade", "1", "--sides", "L", "--steps", "3", "--seed", "2", "--guidance", "3"];
        var sample = InProcessCli.Train(["sample", "--checkpoint", sided.Checkpoint, "--out", dir.Combine("torch"), "--device", "cpu", .. common]);
        Assert.True(sample.Code == 0, sample.Err);
        Assert.Contains("guidance 3", sample.Out);
        var generate = InProcessCli.Generate(["generate", "--model", sided.Path, "--provider", "cpu", "--out", dir.Combine("ort"), .. common]);
        Assert.True(generate.Code == 0, generate.Err);
        var unguided = InProcessCli.Train(["sample", "--checkpoint", sided.Checkpoint, "--out", dir.Combine("plain"), "--device", "cpu", .. common[..^2]]);
        Assert.True(unguided.Code == 0, unguided.Err);
        string name = Path.GetFileName(Assert.Single(Directory.GetFiles(dir.Combine("ort", "3"), "*.png")));
        Assert.Contains("_w3", name);
        var reader = new Imaging.GrayImageReader();
        float[] a = reader.ReadScaled(dir.Combine("torch", "3", name), 32), b = reader.ReadScaled(dir.Combine("ort", "3", name), 32);
        Assert.True(a.Zip(b, (p, q) => Math.Abs(p - q)).Max() <= 1.01f / 127.5f, "guided sample and guided generate disagree by more than one gray level");
        float[] plain = reader.ReadScaled(Assert.Single(Directory.GetFiles(dir.Combine("plain", "3"), "*.png")), 32);
        Assert.True(a.Zip(plain, (p, q) => Math.Abs(p - q)).Max() > 2f / 127.5f, "--guidance 3 left the sample as it was unguided");
    }

    [Fact]
    public void AutoguidedSampleFromACheckpointMatchesAutoguidedGenerateAndWeightZeroIsTheGuideItself()
    {
        // sample's TorchSharp checkpoint and its ONNX guide meet in the one sampling loop; kneeonnx-gen's autoguidance,
        // two ONNX Runtime models, is the independent reference. At w = 0 the step is ε_guide exactly, so the checkpoint
        // drops out and the images are the guide's own, pixel for pixel.
        using var dir = new TempDirectory();
        string guide = sided.WriteWeakerVariant("sample-guide.onnx");
        string[] common = ["--grades", "1", "--per-grade", "1", "--sides", "L", "--steps", "3", "--seed", "4", "--sampler", "ddim"];
        var reader = new Imaging.GrayImageReader();
        float[] Only(string folder) => reader.ReadScaled(Assert.Single(Directory.GetFiles(dir.Combine(folder, "1"), "*.png")), 32);

        var sample = InProcessCli.Train(["sample", "--checkpoint", sided.Checkpoint, "--out", dir.Combine("torch"), "--device", "cpu", "--guide-model", guide, "--autoguidance", "2", .. common]);
        Assert.True(sample.Code == 0, sample.Err);
        Assert.Contains("autoguidance 2 by", sample.Out);
        var generate = InProcessCli.Generate(["generate", "--model", sided.Path, "--provider", "cpu", "--out", dir.Combine("ort"), "--guide-model", guide, "--autoguidance", "2", .. common]);
        Assert.True(generate.Code == 0, generate.Err);
        var plain = InProcessCli.Train(["sample", "--checkpoint", sided.Checkpoint, "--out", dir.Combine("plain"), "--device", "cpu", .. common]);
        Assert.True(plain.Code == 0, plain.Err);
        float[] a = Only("torch"), b = Only("ort"), unguided = Only("plain");
        Assert.True(a.Zip(b, (p, q) => Math.Abs(p - q)).Max() <= 1.01f / 127.5f, "autoguided sample and autoguided generate disagree by more than one gray level");
        Assert.True(a.Zip(unguided, (p, q) => Math.Abs(p - q)).Max() > 2f / 127.5f, "--autoguidance 2 left the sample as it was without a guide");

        var zero = InProcessCli.Train(["sample", "--checkpoint", sided.Checkpoint, "--out", dir.Combine("zero"), "--device", "cpu", "--guide-model", guide, "--autoguidance", "0", .. common]);
        Assert.True(zero.Code == 0, zero.Err);
        var guideAlone = InProcessCli.Generate(["generate", "--model", guide, "--provider", "cpu", "--out", dir.Combine("guide"), .. common]);
        Assert.True(guideAlone.Code == 0, guideAlone.Err);
        Assert.Equal(Only("guide"), Only("zero"));
    }

    [Fact]
    public void SampleRefusesAGuideWithoutAWeightAndAGuideThatPredictsAnotherQuantity()
    {
        using var dir = new TempDirectory();
        var missing = InProcessCli.Train(["sample", "--checkpoint", sided.Checkpoint, "--out", dir.Combine("a"), "--device", "cpu", "--guide-model", sided.Path]);
        Assert.NotEqual(0, missing.Code);
        Assert.Contains($"--guide-model {sided.Path} needs --autoguidance W", missing.Err);
        string vPrediction = sided.WriteVariant("v-guide.onnx", proto => TinyOnnxModel.SetMeta(proto, ModelContract.Keys.PredictionType, "v_prediction"));
        var other = InProcessCli.Train(["sample", "--checkpoint", sided.Checkpoint, "--out", dir.Combine("b"), "--device", "cpu", "--guide-model", vPrediction, "--autoguidance", "2"]);
        Assert.NotEqual(0, other.Code);
        Assert.Contains($"{vPrediction}: cannot guide {sided.Checkpoint}: it predicts v_prediction, the model epsilon", other.Err);
        Assert.False(Directory.Exists(dir.Combine("b")), "a refused guide left its output folder behind");
    }

    [Fact]
    public void SidesOnAGradeOnlyModelAreRefused()
    {
        using var dir = new TempDirectory();
        string gradeOnly = dir.Combine("g.onnx");
        var (state, model) = Checkpoint.LoadModel(TinyRuns.Train(dir.Combine("run"), steps: 1));
        using (model) File.WriteAllBytes(gradeOnly, OnnxExporter.Build(model, state, "ema").ToByteArray());
        var (code, _, err) = InProcessCli.Generate("generate", "--model", gradeOnly, "--provider", "cpu", "--per-grade", "1", "--sides", "L", "--out", dir.Combine("o"));
        Assert.Equal(2, code);
        Assert.Contains("not side-conditioned", err);
    }

    [Fact]
    public void TrainingWithSidesNeedsEveryImagesSide()
    {
        using var dir = new TempDirectory();
        string root = SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 2, side: 32);
        string unnamed = Path.Combine(root, "train", "3", "knee.png");
        File.Copy(Directory.GetFiles(Path.Combine(root, "train", "3"))[0], unnamed);
        var (code, _, err) = InProcessCli.Train("train", "--data", root, "--out", dir.Combine("run"), "--preset", "tiny", "--sides", "--steps", "1", "--batch", "2");
        Assert.Equal(2, code);
        Assert.Contains(unnamed, err);
        Assert.Contains("states no knee side", err);
    }
}

public class SideLearningRateTests
{
    [Fact]
    public void TheSideEmbeddingTakesAdamsFirstStepAtItsOwnRate()
    {
        // Adam's first step moves every weight with a non-zero gradient by the learning rate exactly (m̂/√v̂ = ±1, up to ε),
        // whatever the gradient's size: the side projection, starting at zero, must end at ± factor × lr, the rest move ≤ lr.
        using var dir = new TempDirectory();
        var (images, grades) = SyntheticKnees.SidedInMemory(2, 32);
        const double lr = 1e-3, factor = 7;
        var config = new TrainConfig
        {
            Data = "memory", Preset = Presets.Tiny, Steps = 1, BatchSize = 4, LearningRate = lr, WarmupSteps = 0, Sides = true,
            SideLearningRateFactor = factor, LabelDropout = 0.1, Seed = 2,
        };
        Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = dir.Path, Threads = 2, Device = "cpu", Output = new StringWriter(),
            Preloaded = KneeDataset.FromMemory(32, images, grades, sides: SyntheticKnees.SideOfIndex(images.Length)),
        });
        var (_, model) = Checkpoint.LoadModel(Path.Combine(dir.Path, Checkpoint.FileName), raw: true);
        using var _ = model;
        float[] projection = model.side_embedding[0].to_time.weight!.data<float>().ToArray();
        double largestSide = projection.Max(Math.Abs);
        Assert.Equal(factor * lr, largestSide, 6);
        int atRate = projection.Count(v => Math.Abs(Math.Abs(v) - factor * lr) < 0.01 * factor * lr);
        Assert.True(atRate > projection.Length / 2,
            $"{atRate} of {projection.Length} weights of the zero-initialised projection sit at ± factor × lr after one step (|g| ≫ ε for most)");
        manual_seed(config.Seed); // the run built its network right after this seed
        using var initial = new UNet(Presets.Get(Presets.Tiny, nullGrade: true, sides: true));
        float[] before = initial.conv_in.weight!.data<float>().ToArray(), after = model.conv_in.weight!.data<float>().ToArray();
        double largestRest = before.Zip(after, (a, b) => Math.Abs(a - b)).Max();
        Assert.Equal(lr, largestRest, 6);
    }
}
