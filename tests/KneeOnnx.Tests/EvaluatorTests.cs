using System.Text.Json.Nodes;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Classifier;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Evaluation;

namespace KneeOnnx.Tests;

public class EvaluatorTests
{
    private static (string Generated, string Real, string Train) Sets(TempDirectory dir, int generatedSide = 40)
    {
        SyntheticKnees.WriteDataset(dir.Combine("real"), perGrade: 4, side: 40, split: "val", firstIndex: 50);
        SyntheticKnees.WriteDataset(dir.Combine("train"), perGrade: 6, side: 40, split: "t");
        // "Generated" images: new synthetic knees (other indexes), plus one exact copy of a training image.
        string generated = dir.Combine("gen");
        for (int g = 0; g < KlGrades.Count; g++)
        {
            Directory.CreateDirectory(Path.Combine(generated, g.ToString()));
            for (int i = 0; i < 3; i++)
                SyntheticKnees.WritePng(Path.Combine(generated, g.ToString(), $"g{i}.png"), SyntheticKnees.Pixels(g, 100 + i, generatedSide), generatedSide);
        }
        string trainImage = Directory.GetFiles(dir.Combine("train", "t", "2")).Order().First();
        File.Copy(trainImage, Path.Combine(generated, "2", "copied.png"));
        return (generated, dir.Combine("real", "val"), dir.Combine("train", "t"));
    }

    [Fact]
    public void ReportsFidPerGradeWithFloorAndFlagsACopiedTrainingImage()
    {
        using var dir = new TempDirectory();
        var (gen, real, train) = Sets(dir);
        var report = Evaluator.Run(new EvaluationRequest(gen, real, train, dir.Combine("report")), new StringWriter())!;
        Assert.Equal(["0", "1", "2", "3", "4", "all"], report.FidRn18.Keys);
        Assert.All(report.FidRn18.Values, v => Assert.NotNull(v));
        Assert.All(report.Floor.Values, v => Assert.NotNull(v));
        Assert.Equal(16, report.Counts["all"].Generated);
        Assert.Equal(4, report.Counts["2"].Generated);
        Assert.Equal(4, report.Counts["2"].FloorSample);
        Assert.True(report.Memorised >= 1);
        Assert.Contains(report.Memorisation.Flagged, f => f.File.EndsWith("copied.png") && f.PixelDistance == 0);
        Assert.True(File.Exists(dir.Combine("report", "report.md")));
        Assert.True(File.Exists(dir.Combine("report", "memorisation_pairs.png")));
        Assert.True(File.Exists(dir.Combine("report", ReportFigures.FidChart)));
        Assert.True(File.Exists(dir.Combine("report", ReportFigures.NearestSheet)));
        // Per grade a row of generated images over a row of real ones: 10 rows of 96-pixel tiles, 4 columns (the
        // largest row: grade 2's three generated images plus the copy, or the 4 real images of any grade).
        using (var sheet = SixLabors.ImageSharp.Image.Load(dir.Combine("report", ReportFigures.BesideRealSheet)))
            Assert.Equal((4 * 96 + 5 * 4, 10 * 96 + 11 * 4), (sheet.Width, sheet.Height));
        // The keys the README documents for report.json, read without the typed model.
        var json = JsonNode.Parse(File.ReadAllText(dir.Combine("report", "report.json")))!.AsObject();
        foreach (var key in new[] { "fidRn18", "floor", "counts", "gradeFidelity", "spearman", "klIs", "memorised", "memorisation", "augmentBenefit", "generation" })
            Assert.True(json.ContainsKey(key), key);
        Assert.Equal("not computed: pass --augment", json["augmentBenefit"]!.GetValue<string>());
        Assert.Equal(4, json["counts"]!["2"]!["floorSample"]!.GetValue<int>());
    }

    [Fact]
    public void AGeneratedSetIdenticalToTheRealSetIsAtFidZeroInEveryGrade()
    {
        using var dir = new TempDirectory();
        var (_, real, train) = Sets(dir);
        var report = Evaluator.Run(new EvaluationRequest(real, real, train, dir.Combine("report")), new StringWriter())!;
        foreach (var key in EvaluationReport.GradeKeys)
        {
            Assert.Equal(0.0, report.FidRn18[key]!.Value, 3);
            Assert.True(report.Floor[key] > 1, $"floor of {key}: {report.Floor[key]}"); // train images are other knees
        }
        // Each generated image sits on a real one: all of both manifolds reached. Per grade four images are too few
        // for a fifth neighbour.
        var all = report.Manifold!["all"]!;
        Assert.Equal((1.0, 1.0, 1.0), (all.Precision, all.Recall, all.Coverage));
        Assert.All(Enumerable.Range(0, KlGrades.Count).Select(g => g.ToString()), key => Assert.Null(report.Manifold[key]));
        Assert.Contains("| all | 1.000 | 1.000 |", File.ReadAllText(dir.Combine("report", "report.md")));
    }

    [Fact]
    public void WithAClassifierReportsGradeFidelityOrdinalCheckAndKlIs()
    {
        using var dir = new TempDirectory();
        var (gen, real, train) = Sets(dir);
        var trainSet = KneeDataset.Load(dir.Combine("train"), "t", 40);
        var valSet = KneeDataset.Load(dir.Combine("real"), "val", 40);
        string classifier = dir.Combine("cls.bin");
        ClassifierTrainer.Train(new ClassifierConfig { ImageSize = 40, Widths = [8, 16, 32], Epochs = 30, BatchSize = 10, LearningRate = 3e-3, Threads = 2 },
            trainSet, valSet, classifier, new StringWriter());
        var report = Evaluator.Run(new EvaluationRequest(gen, real, train, dir.Combine("report"), Classifier: classifier, Augment: new AugmentRequest(Epochs: 2)), new StringWriter())!;
        var augment = report.AugmentBenefit!;
        Assert.Equal(40, augment.ImageSide); // the reference classifier's size, not the default
        Assert.Equal([3, 3, 4, 3, 3], augment.SyntheticPerGrade);
        Assert.True(File.Exists(dir.Combine("report", "augment", "augment.md")));
        Assert.Contains("Augmentation benefit", File.ReadAllText(dir.Combine("report", "report.md")));
        Assert.InRange(report.Spearman!.Value, 0.3, 1.0); // the classifier learnt the grades' order on these knees
        Assert.NotNull(report.KlIs);
        // "all" is every generated image together: the per-grade figures weighted by their image counts.
        var fidelity = report.GradeFidelity!;
        var grades = EvaluationReport.GradeKeys.Where(k => k != EvaluationReport.AllGrades).Select(k => fidelity[k]).ToList();
        Assert.Equal(16, fidelity["all"].N);
        Assert.Equal(grades.Sum(f => f.N * f.Generated!.Value) / 16, fidelity["all"].Generated!.Value, tolerance: 1e-3); // each figure rounded to 4 decimals
        Assert.Equal(grades.Sum(f => f.N * f.MeanPredictedGrade!.Value) / 16, fidelity["all"].MeanPredictedGrade!.Value, tolerance: 2e-3);
        Assert.Contains("Spearman", File.ReadAllText(dir.Combine("report", "report.md")));
    }

    [Fact]
    public void FromAModelFileOneCommandGeneratesThenEvaluatesAndResumes()
    {
        using var dir = new TempDirectory();
        using var model = new TinyOnnxModel();
        var (_, real, train) = Sets(dir);
        string[] args = ["evaluate", "--model", model.Path, "--per-grade", "3", "--sampler", "ddim", "--steps", "2", "--real", real, "--train", train, "--out", dir.Combine("r"), "--no-feature-cache"];
        var (code, stdout, err) = InProcessCli.Train(args);
        Assert.True(code == 0, err);
        var report = JsonNode.Parse(File.ReadAllText(dir.Combine("r", "report.json")))!;
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(model.Path)));
        Assert.Equal(sha, report["generation"]!["modelSha256"]!.GetValue<string>());
        Assert.Equal(15, report["counts"]!["all"]!["generated"]!.GetValue<int>());
        Assert.Equal(32, report["imageSide"]!.GetValue<int>()); // the model's size: real images are brought down to it
        Assert.Equal(15, Directory.GetFiles(dir.Combine("r", "generated"), "*.png", SearchOption.AllDirectories).Length);

        (code, stdout, err) = InProcessCli.Train(args);
        Assert.True(code == 0, err);
        Assert.Contains("15 already there", stdout);
        Assert.Equal(0, JsonNode.Parse(File.ReadAllText(dir.Combine("r", "report.json")))!["generation"]!["generatedNow"]!.GetValue<int>());

        // Another model into the same report folder: its own images, never the previous model's.
        string other = model.WriteVariant("other.onnx", p => TinyOnnxModel.SetMeta(p, Runtime.ModelContract.Keys.TrainSteps, "999"));
        args[2] = other;
        (code, stdout, err) = InProcessCli.Train(args);
        Assert.True(code == 0, err);
        Assert.Contains("0 already there", stdout);
        var third = JsonNode.Parse(File.ReadAllText(dir.Combine("r", "report.json")))!;
        Assert.Equal(15, third["generation"]!["generatedNow"]!.GetValue<int>());
        Assert.Equal(15, third["counts"]!["all"]!["generated"]!.GetValue<int>());
        Assert.Null(third["denoising"]);

        // The denoising check rides along on request: 2 real images of each grade, six timesteps, in both files.
        (code, stdout, err) = InProcessCli.Train([.. args, "--denoise-check", "2"]);
        Assert.True(code == 0, err);
        var fourth = JsonNode.Parse(File.ReadAllText(dir.Combine("r", "report.json")))!;
        Assert.Equal(10, fourth["denoising"]!["images"]!.GetValue<int>());
        Assert.Equal(6, fourth["denoising"]!["rows"]!.AsArray().Count);
        Assert.Contains("| t | ᾱ_t | x̂₀ MSE | average image MSE | ε̂ MSE |", File.ReadAllText(dir.Combine("r", "report.md")));
        (code, _, err) = InProcessCli.Train([.. args, "--denoise-check", "0"]);
        Assert.Equal(2, code);
        Assert.Contains("--denoise-check must be at least 1", err);
    }

    [Fact]
    public void AnEvaluationWithAnotherEtaGeneratesItsOwnSet()
    {
        using var dir = new TempDirectory();
        using var model = new TinyOnnxModel();
        var (_, real, train) = Sets(dir);
        string[] args = ["evaluate", "--model", model.Path, "--per-grade", "2", "--sampler", "dpm++2m-sde", "--steps", "3", "--real", real, "--train", train, "--out", dir.Combine("r"), "--no-feature-cache"];
        var (code, _, err) = InProcessCli.Train(args);
        Assert.True(code == 0, err);
        (code, var stdout, err) = InProcessCli.Train([.. args, "--eta", "0.5"]);
        Assert.True(code == 0, err);
        Assert.Contains("0 already there", stdout); // the full SDE's images are not reused for another η
        string folder = Directory.GetDirectories(dir.Combine("r", "generated")).Single(d => d.Contains("_eta0.5_"));
        Assert.Equal("dpmpp2m-sde3_eta0.5", JsonNode.Parse(File.ReadAllText(dir.Combine("r", "report.json")))!["generation"]!["sampler"]!.GetValue<string>());
        string full = Directory.GetDirectories(dir.Combine("r", "generated")).Single(d => d != folder);
        var halfFiles = Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories).Order().ToArray();
        var fullFiles = Directory.GetFiles(full, "*.png", SearchOption.AllDirectories).Order().ToArray();
        Assert.Equal(10, halfFiles.Length);
        Assert.All(halfFiles, f => Assert.Contains("_dpmpp2m-sde3_eta0.5_s1_", Path.GetFileName(f)));
        // η reaches the sampler: the same noise seeds, other images.
        Assert.Contains(halfFiles.Zip(fullFiles), p => !File.ReadAllBytes(p.First).AsSpan().SequenceEqual(File.ReadAllBytes(p.Second)));

        (code, _, err) = InProcessCli.Train("evaluate", "--generated", folder, "--eta", "0.5", "--real", real, "--train", train, "--out", dir.Combine("r2"));
        Assert.Equal(2, code);
        Assert.Contains("--eta chooses how --model generates", err);
        (code, _, err) = InProcessCli.Train([.. args[..5], "ddpm", .. args[6..], "--eta", "0.5"]);
        Assert.Equal(2, code);
        Assert.Contains("--eta 0.5: ddpm adds no noise for η to scale", err);
    }

    [Fact]
    public void AGuidedEvaluationGeneratesItsOwnSetAndSaysSo()
    {
        using var dir = new TempDirectory();
        using var model = new TinyOnnxModel();
        var (_, real, train) = Sets(dir);
        string[] args = ["evaluate", "--model", model.Path, "--per-grade", "2", "--sampler", "ddim", "--steps", "2", "--real", real, "--train", train, "--out", dir.Combine("r"), "--no-feature-cache"];
        var (code, _, err) = InProcessCli.Train(args);
        Assert.True(code == 0, err);
        (code, var stdout, err) = InProcessCli.Train([.. args, "--guidance", "2"]);
        Assert.True(code == 0, err);
        Assert.Contains("0 already there", stdout); // the unguided images are not reused for a guided request

        var report = JsonNode.Parse(File.ReadAllText(dir.Combine("r", "report.json")))!;
        Assert.Equal(2.0, report["generation"]!["guidance"]!.GetValue<double>());
        string folder = report["generation"]!["folder"]!.GetValue<string>();
        Assert.EndsWith("_ddim2_w2_s1", folder); // the guidance named once in the folder
        Assert.Contains("guidance 2", File.ReadAllText(dir.Combine("r", "report.md")));
        string unguided = Directory.GetDirectories(dir.Combine("r", "generated")).Single(d => d != folder);
        var guidedFiles = Directory.GetFiles(folder, "*.png", SearchOption.AllDirectories).Order().ToArray();
        var unguidedFiles = Directory.GetFiles(unguided, "*.png", SearchOption.AllDirectories).Order().ToArray();
        Assert.Equal(10, guidedFiles.Length);
        Assert.Equal(unguidedFiles.Length, guidedFiles.Length);
        Assert.All(guidedFiles, f => Assert.Contains("_ddim2_w2_s1_", Path.GetFileName(f)));
        Assert.Contains(guidedFiles.Zip(unguidedFiles), p => !File.ReadAllBytes(p.First).AsSpan().SequenceEqual(File.ReadAllBytes(p.Second)));

        (code, _, err) = InProcessCli.Train("evaluate", "--generated", folder, "--guidance", "2", "--real", real, "--train", train, "--out", dir.Combine("r2"));
        Assert.Equal(2, code);
        Assert.Contains("--guidance chooses how --model generates", err);

        // Guidance limited to high noise is a request of its own: a third folder, named and reported.
        (code, stdout, err) = InProcessCli.Train([.. args, "--guidance", "2", "--guidance-interval", "2,inf"]);
        Assert.True(code == 0, err);
        Assert.Contains("0 already there", stdout);
        report = JsonNode.Parse(File.ReadAllText(dir.Combine("r", "report.json")))!;
        Assert.Equal("2,inf", report["generation"]!["guidanceInterval"]!.GetValue<string>());
        Assert.EndsWith("_ddim2_w2_gi2-inf_s1", report["generation"]!["folder"]!.GetValue<string>());
        Assert.Contains("guidance 2 at noise levels σ in (2,inf]", File.ReadAllText(dir.Combine("r", "report.md")));
    }

    [Fact]
    public void CachedFeaturesOfAFolderAreReusedExactlyAndATornCacheIsRecomputed()
    {
        using var dir = new TempDirectory();
        var (gen, real, train) = Sets(dir);
        string cache = dir.Combine("cache");
        var first = new StringWriter();
        var a = Evaluator.Run(new EvaluationRequest(gen, real, train, dir.Combine("r1"), FeatureCacheDirectory: cache), first)!;
        Assert.DoesNotContain("from the cache", first.ToString());
        var second = new StringWriter();
        var b = Evaluator.Run(new EvaluationRequest(gen, real, train, dir.Combine("r2"), FeatureCacheDirectory: cache), second)!;
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(second.ToString(), "from the cache").Count); // generated, real, train
        Assert.Equal(a.FidRn18, b.FidRn18);
        Assert.Equal(a.Floor, b.Floor);

        foreach (var file in Directory.GetFiles(cache)) File.WriteAllBytes(file, File.ReadAllBytes(file)[..100]);
        var third = new StringWriter();
        var c = Evaluator.Run(new EvaluationRequest(gen, real, train, dir.Combine("r3"), FeatureCacheDirectory: cache), third)!;
        Assert.DoesNotContain("from the cache", third.ToString());
        Assert.Equal(a.FidRn18, c.FidRn18);
    }

    [Fact]
    public void AMissingModelIsAOneLineError()
    {
        using var dir = new TempDirectory();
        var (_, real, train) = Sets(dir);
        var (code, _, err) = InProcessCli.Train("evaluate", "--model", dir.Combine("missing.onnx"), "--real", real, "--train", train, "--out", dir.Combine("r"));
        Assert.Equal(2, code);
        Assert.Contains("missing.onnx", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void GeneratedAndModelAreExclusiveAndOneIsNeeded()
    {
        using var dir = new TempDirectory();
        var (code, _, err) = InProcessCli.Train("evaluate", "--data", dir.Path, "--out", dir.Combine("r"));
        Assert.Equal(2, code);
        Assert.Contains("exactly one of --generated", err);
        (code, _, err) = InProcessCli.Train("evaluate", "--generated", dir.Path, "--model", "m.onnx", "--data", dir.Path, "--out", dir.Combine("r"));
        Assert.Equal(2, code);
        Assert.Contains("exactly one of --generated", err);
    }

    [Fact]
    public void MissingClassifierFileIsNamedBeforeAnyWork()
    {
        using var dir = new TempDirectory();
        var (gen, real, train) = Sets(dir);
        var e = Assert.Throws<FileNotFoundException>(() => Evaluator.Run(new EvaluationRequest(gen, real, train, dir.Combine("r"), Classifier: dir.Combine("none.bin")), new StringWriter()));
        Assert.Contains("none.bin", e.Message);
        Assert.False(Directory.Exists(dir.Combine("r")));
    }

    [Fact]
    public void MixedSizesInTheGeneratedSetAreAnError()
    {
        using var dir = new TempDirectory();
        var (gen, real, train) = Sets(dir);
        SyntheticKnees.WritePng(Path.Combine(gen, "1", "odd.png"), SyntheticKnees.Pixels(1, 1, 24), 24);
        var e = Assert.Throws<DatasetException>(() => Evaluator.Run(new EvaluationRequest(gen, real, train, dir.Combine("r")), new StringWriter()));
        Assert.Contains("odd.png", e.Message);
        Assert.Contains("one image size", e.Message);
    }

    [Fact]
    public void NonPngFilesMissingGradesAndEmptyFoldersAreErrors()
    {
        using var dir = new TempDirectory();
        var (gen, real, train) = Sets(dir);
        File.WriteAllText(Path.Combine(gen, "3", "notes.jpg"), "x");
        Assert.Contains("notes.jpg: not a PNG", Assert.Throws<DatasetException>(() => Evaluator.Run(new EvaluationRequest(gen, real, train, dir.Combine("r")), new StringWriter())).Message);
        File.Delete(Path.Combine(gen, "3", "notes.jpg"));

        Directory.Delete(Path.Combine(real, "4"), true);
        Assert.Contains("grade folder missing", Assert.Throws<DatasetException>(() => Evaluator.Run(new EvaluationRequest(gen, real, train, dir.Combine("r")), new StringWriter())).Message);

        string empty = dir.Combine("empty");
        Directory.CreateDirectory(empty);
        Assert.Contains("no PNG images", Assert.Throws<DatasetException>(() => Evaluator.Run(new EvaluationRequest(empty, real, train, dir.Combine("r")), new StringWriter())).Message);
        Assert.False(Directory.Exists(dir.Combine("r")));
    }

    [Fact]
    public void FloorSampleMatchesTheGeneratedCountsPerGrade()
    {
        int[] generated = [0, 0, 1, 4, 4, 4];
        int[] train = [0, 0, 0, 1, 1, 2, 4, 4, 4, 4];
        var sample = Evaluator.FloorSample(generated, train, seed: 3);
        Assert.Equal(6, sample.Length);
        Assert.Equal(sample.Length, sample.Distinct().Count());
        Assert.Equal(2, sample.Count(i => train[i] == 0));
        Assert.Equal(3, sample.Count(i => train[i] == 4));
        Assert.Equal(sample, Evaluator.FloorSample(generated, train, seed: 3));
    }
}

/// <summary>evaluate --model with sides scores every image it generated (issue: L,R made 20 and scored 10).</summary>
public class EvaluationCountTests
{
    [Theory]
    [InlineData(null, 2, 2)]
    [InlineData("any", 2, 2)]
    [InlineData("L", 2, 2)]
    [InlineData("L,R", 2, 4)]
    [InlineData("L, R", 5, 10)]
    public void GeneratedLimitCountsEveryRequestedSide(string? sides, int perGrade, int expected)
    {
        var request = new KneeOnnx.Training.Evaluation.EvaluationRequest("g", "r", "t", "o",
            GenerateFrom: new KneeOnnx.Training.Evaluation.GenerateRequest("m.onnx", perGrade, Sides: sides));
        Assert.Equal(expected, request.GeneratedLimit);
        Assert.Equal(Math.Min(3, expected), (request with { Limit = 3 }).GeneratedLimit);
    }
}
