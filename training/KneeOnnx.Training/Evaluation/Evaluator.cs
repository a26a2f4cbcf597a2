using System.Diagnostics;
using System.Globalization;
using KneeOnnx.IO;
using KneeOnnx.Output;
using KneeOnnx.Randomness;
using KneeOnnx.Training.Data;

namespace KneeOnnx.Training.Evaluation;

/// <summary>What to compare: a generated set, the real set it should resemble (val) and the training set (floor, memorisation).</summary>
public sealed record EvaluationRequest(string Generated, string Real, string Train, string OutDirectory, int? Limit = null, long Seed = 0, string? Classifier = null,
                                       AugmentRequest? Augment = null, GenerateRequest? GenerateFrom = null, string? FeatureCacheDirectory = null,
                                       string? SideClassifier = null, int? DenoisingPerGrade = null, int Threads = 0)
{
    /// <summary>
    /// At most this many generated images per grade: --limit, and with --model the count asked for (a folder may hold
    /// more from an earlier, larger run) — --per-grade for each listed side, so L,R scores both sides' images.
    /// </summary>
    public int? GeneratedLimit => GenerateFrom is null ? Limit : Math.Min(Limit ?? int.MaxValue, GenerateFrom.PerGrade * SidesListed(GenerateFrom.Sides));

    private static int SidesListed(string? sides) =>
        string.IsNullOrWhiteSpace(sides) ? 1 : sides.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length;
}

/// <summary>Ask for the augmentation benefit too: classifier epochs per run, and a cap on generated images per grade.</summary>
public sealed record AugmentRequest(int Epochs = 10, int? PerGrade = null);

/// <summary>
/// FID-RN18 per grade with its real-vs-real floor, the memorisation audit and, given the reference KL classifier,
/// grade fidelity, the ordinal check (Spearman ρ) and KL-IS; written as report.json and report.md.
/// </summary>
public static class Evaluator
{
    /// <returns>the report; null only when the generation of <see cref="EvaluationRequest.GenerateFrom"/> was stopped by its time limit.</returns>
    public static EvaluationReport? Run(EvaluationRequest request, TextWriter log)
    {
        var timer = Stopwatch.StartNew();
        if (File.Exists(request.OutDirectory)) throw new ArgumentException($"{request.OutDirectory}: --out is a file, not a folder");
        if (request.Limit is <= 0) throw new ArgumentException($"--limit must be at least 1, got {request.Limit}");
        if (request.Classifier is not null && !File.Exists(request.Classifier))
            throw new FileNotFoundException($"{request.Classifier}: classifier file not found", request.Classifier);
        if (request.SideClassifier is not null && !File.Exists(request.SideClassifier))
            throw new FileNotFoundException($"{request.SideClassifier}: side classifier file not found", request.SideClassifier);
        // Both classifiers are checked before any image is made or scored, so a wrong one costs nothing and changes no report.
        Classifier.ClassifierFile.RequireTarget(request.Classifier, "--classifier", Classifier.ClassifierTarget.Grade);
        Classifier.ClassifierFile.RequireTarget(request.SideClassifier, "--side-classifier", Classifier.ClassifierTarget.Side);
        // Every folder to be read is checked before any image is made: a named pipe among the images would hang the
        // read only after the generation, and a stray file would waste it.
        foreach (var folder in request.GenerateFrom is null ? new[] { request.Generated, request.Real, request.Train } : [request.Real, request.Train])
            if (Directory.Exists(folder)) ImageSet.RejectNonPng(folder);
        // Seconds, and it refuses a latent model without its encoder: before the minutes of generation.
        var denoising = request.DenoisingPerGrade is int perGrade && request.GenerateFrom is { } from
            ? DenoisingCheck.Run(from.Model, request.Real, perGrade, request.Seed, log, from.Runtime with { Provider = KneeOnnx.Runtime.ProviderRequest.Cpu }) : null;
        GenerationInfo? generation = null;
        if (request.GenerateFrom is not null)
        {
            foreach (var folder in new[] { request.Real, request.Train })
                if (!Directory.Exists(folder)) throw new DatasetException($"{folder}: folder not found");
            if (EvaluationSamples.Generate(request.GenerateFrom, request.Generated, log) is not { } made) return null;
            (generation, string generatedFolder) = made;
            request = request with { Generated = generatedFolder };
        }
        int side = ImageSet.CommonSide(request.Generated);
        var generated = ImageSet.Load(request.Generated, side, request.GeneratedLimit);
        var real = ImageSet.Load(request.Real, side, request.Limit);
        var train = ImageSet.Load(request.Train, side);
        log.WriteLine($"evaluate at {side}²: generated {generated.Count}, real {real.Count}, train {train.Count} images");

        using var featurizer = new ResNet18Features(threads: request.Threads);
        float[][] Features(KneeDataset set, string name) => FeatureCache.GetOrCompute(request.FeatureCacheDirectory, set, side, () =>
        {
            var sw = Stopwatch.StartNew();
            var result = set.Images.Select(img => featurizer.Of(img, side, side)).ToArray();
            log.WriteLine($"  ResNet-18 features of {set.Count} {name} images in {sw.Elapsed.TotalSeconds:F0}s");
            return result;
        }, log);
        var fGen = Features(generated, "generated");
        var fReal = Features(real, "real");
        var fTrain = Features(train, "train");

        // Floor: a real train sample of the generated set's size per grade, against the same real set.
        var floorIndexes = FloorSample(generated.Grades, train.Grades, request.Seed);
        var fid = new Dictionary<string, double?>();
        var floor = new Dictionary<string, double?>();
        var counts = new Dictionary<string, GradeCounts>();
        var kid = new Dictionary<string, KernelDistanceEstimate?>();
        var kidFloor = new Dictionary<string, KernelDistanceEstimate?>();
        var manifold = new Dictionary<string, ManifoldEstimate?>();
        var manifoldFloor = new Dictionary<string, ManifoldEstimate?>();
        foreach (var key in EvaluationReport.GradeKeys)
        {
            bool Matches(int grade) => key == "all" || grade.ToString(CultureInfo.InvariantCulture) == key;
            var gen = Select(fGen, generated.Grades, Matches);
            var rl = Select(fReal, real.Grades, Matches);
            var fl = floorIndexes.Where(i => Matches(train.Grades[i])).Select(i => fTrain[i]).ToList();
            fid[key] = Fid(gen, rl);
            floor[key] = Fid(fl, rl);
            kid[key] = KernelDistance.OverSubsets(gen, rl, request.Seed);
            kidFloor[key] = KernelDistance.OverSubsets(fl, rl, request.Seed);
            manifold[key] = Round(ManifoldMeasures.Of(rl, gen));
            manifoldFloor[key] = Round(ManifoldMeasures.Of(rl, fl));
            counts[key] = new GradeCounts { Generated = gen.Count, Real = rl.Count, FloorSample = fl.Count };
        }

        // Memorisation: nearest training image of every generated image, against real val images' nearest-train distances.
        var pixelGen = Memorisation.Nearest(generated.Images, train.Images);
        var pixelReal = Memorisation.Nearest(real.Images, train.Images);
        var featGen = Memorisation.Nearest(fGen, fTrain);
        var featReal = Memorisation.Nearest(fReal, fTrain);
        double pixelThreshold = Memorisation.Percentile(pixelReal.Select(p => p.Distance), 1);
        double featureThreshold = Memorisation.Percentile(featReal.Select(p => p.Distance), 1);
        var flagged = new List<FlaggedImage>();
        var pairs = new List<IReadOnlyList<float[]>>();
        int pixelFlags = 0, featureFlags = 0;
        for (int i = 0; i < generated.Count; i++)
        {
            bool byPixels = pixelGen[i].Distance < pixelThreshold, byFeatures = featGen[i].Distance < featureThreshold;
            pixelFlags += byPixels ? 1 : 0;
            featureFlags += byFeatures ? 1 : 0;
            if (!byPixels && !byFeatures) continue;
            int nearest = byPixels ? pixelGen[i].Index : featGen[i].Index;
            flagged.Add(new FlaggedImage
            {
                File = generated.Files[i], NearestTrain = train.Files[nearest], PixelDistance = pixelGen[i].Distance, FeatureDistance = featGen[i].Distance,
            });
            pairs.Add([generated.Images[i], train.Images[nearest]]);
        }
        Directory.CreateDirectory(request.OutDirectory);
        if (pairs.Count > 0)
            ContactSheet.Write(Path.Combine(request.OutDirectory, "memorisation_pairs.png"), pairs.Take(64).ToList(), side, Math.Max(side, 96));

        var (gradeFidelity, spearman, klIs, classifierNote) = request.Classifier is null
            ? (null, null, null, EvaluationReport.ClassifierNotComputed)
            : ClassifierMeasures(request, log);
        ReportFigures.FidBars(Path.Combine(request.OutDirectory, ReportFigures.FidChart), fid, floor);
        ReportFigures.NearestPairs(Path.Combine(request.OutDirectory, ReportFigures.NearestSheet), generated, train, pixelGen, side);
        ReportFigures.BesideReal(Path.Combine(request.OutDirectory, ReportFigures.BesideRealSheet), generated, real, side, request.Seed);
        var sides = request.SideClassifier is null ? null
            : SideFidelityMeasure.Run(request.SideClassifier, request.Generated, request.Real, request.GeneratedLimit, request.Limit, log);
        var augment = request.Augment is null ? null : AugmentationMeasure(request, log);

        var report = new EvaluationReport
        {
            ImageSide = side,
            Generated = Describe(request.Generated, generated),
            Generation = generation,
            Real = Describe(request.Real, real),
            Train = Describe(request.Train, train),
            FidRn18 = fid,
            Floor = floor,
            Counts = counts,
            KidRn18 = kid,
            KidFloor = kidFloor,
            Manifold = manifold,
            ManifoldFloor = manifoldFloor,
            GradeFidelity = gradeFidelity,
            Spearman = spearman,
            KlIs = klIs,
            ClassifierMeasures = classifierNote,
            Memorised = pixelFlags,
            AugmentBenefit = augment,
            SideFidelity = sides,
            Denoising = denoising,
            Memorisation = new MemorisationAudit
            {
                PixelThreshold = pixelThreshold, FeatureThreshold = featureThreshold,
                FlaggedByPixels = pixelFlags, FlaggedByFeatures = featureFlags, Flagged = flagged,
                GeneratedMedianPixelDistance = Memorisation.Percentile(pixelGen.Select(p => p.Distance), 50),
                RealMedianPixelDistance = Memorisation.Percentile(pixelReal.Select(p => p.Distance), 50),
            },
            Seconds = Math.Round(timer.Elapsed.TotalSeconds, 1),
        };
        report.Save(Path.Combine(request.OutDirectory, EvaluationReport.FileName));
        AtomicFile.WriteAllText(Path.Combine(request.OutDirectory, EvaluationMarkdown.FileName), EvaluationMarkdown.Document(report));
        log.WriteLine($"wrote {Path.Combine(request.OutDirectory, "report.json")} and report.md in {timer.Elapsed.TotalSeconds:F0}s");
        return report;
    }

    /// <summary>Grade fidelity per conditioning grade (beside the classifier's accuracy on real images of that grade), Spearman ρ
    /// between conditioning and predicted grade, and KL-IS, all at the classifier's own input size.</summary>
    private static (IReadOnlyDictionary<string, GradeFidelity>?, double?, double?, string) ClassifierMeasures(EvaluationRequest request, TextWriter log)
    {
        var (header, net) = Classifier.ClassifierFile.Load(request.Classifier!);
        using var _ = net;
        int side = header.ImageSize;
        // A classifier larger than the generated images sees them upsampled; real val takes the same road (down to
        // their size, then up), so a grade it reads in real images but not in generated ones is missing content.
        int generatedSide = ImageSet.CommonSide(request.Generated);
        int? via = generatedSide < side ? generatedSide : null;
        var generated = ImageSet.Load(request.Generated, side, request.GeneratedLimit);
        var real = ImageSet.Load(request.Real, side, request.Limit, via);
        var probabilities = Classifier.ClassifierTrainer.Probabilities(net, generated.Images, side, header.MirrorAveraging);
        int[] predicted = probabilities.Select(p => Array.IndexOf(p, p.Max())).ToArray();
        int[] predictedReal = Classifier.ClassifierTrainer.Predict(net, real.Images, side, header.MirrorAveraging);
        var fidelity = new Dictionary<string, GradeFidelity>();
        foreach (var key in EvaluationReport.GradeKeys)
        {
            bool Matches(int grade) => key == "all" || grade.ToString(CultureInfo.InvariantCulture) == key;
            var gen = Enumerable.Range(0, generated.Count).Where(i => Matches(generated.Grades[i])).ToArray();
            var rl = Enumerable.Range(0, real.Count).Where(i => Matches(real.Grades[i])).ToArray();
            fidelity[key] = new GradeFidelity
            {
                Generated = gen.Length == 0 ? null : Math.Round(gen.Average(i => predicted[i] == generated.Grades[i] ? 1.0 : 0.0), 4),
                Real = rl.Length == 0 ? null : Math.Round(rl.Average(i => predictedReal[i] == real.Grades[i] ? 1.0 : 0.0), 4),
                MeanPredictedGrade = gen.Length == 0 ? null : Math.Round(gen.Average(i => (double)predicted[i]), 3),
                N = gen.Length,
            };
        }
        double rho = GradeAgreement.Spearman(generated.Grades.Select(g => (double)g).ToArray(), predicted.Select(p => (double)p).ToArray());
        double score = GradeAgreement.InceptionScore(probabilities);
        log.WriteLine($"  classifier {request.Classifier}: fidelity {fidelity["all"].Generated} (real {fidelity["all"].Real}), Spearman {rho:F3}, KL-IS {score:F3}");
        return (fidelity, double.IsNaN(rho) ? null : Math.Round(rho, 4), Math.Round(score, 4),
            $"classifier {Path.GetFileName(request.Classifier)} at {side}² (val accuracy {header.ValAccuracy:F3}, κ {header.ValQuadraticKappa:F3})"
            + (via is int v ? $"; real val brought down to the generated {v}² first, then up to {side}² as the generated images are" : ""));
    }

    /// <summary>Two classifier runs of equal budget (see <see cref="Classifier.AugmentationBenefit"/>), at the reference classifier's size and widths when one is given.</summary>
    private static Classifier.AugmentationReport AugmentationMeasure(EvaluationRequest request, TextWriter log)
    {
        var config = new Classifier.ClassifierConfig { Epochs = request.Augment!.Epochs, Seed = request.Seed + 1, Threads = request.Threads };
        if (request.Classifier is not null)
        {
            var (header, net) = Classifier.ClassifierFile.Load(request.Classifier);
            net.Dispose();
            config = Classifier.ClassifierConfig.ForBackbone(header.Backbone) with
            {
                Epochs = config.Epochs, Seed = config.Seed, Threads = config.Threads, ImageSize = header.ImageSize, Widths = header.Widths, MirrorAveraging = header.MirrorAveraging,
            };
        }
        config.Validate();
        var result = Classifier.AugmentationBenefit.Run(config, ImageSet.Load(request.Train, config.ImageSize), ImageSet.Load(request.Real, config.ImageSize),
            ImageSet.Load(request.Generated, config.ImageSize, request.GeneratedLimit), request.Augment.PerGrade, Path.Combine(request.OutDirectory, "augment"), log);
        return result.Report;
    }

    private static ManifoldEstimate? Round(ManifoldEstimate? m) =>
        m is null ? null : m with { Precision = Math.Round(m.Precision, 4), Recall = Math.Round(m.Recall, 4), Density = Math.Round(m.Density, 4), Coverage = Math.Round(m.Coverage, 4) };

    private static List<float[]> Select(float[][] features, IReadOnlyList<int> grades, Func<int, bool> matches) =>
        features.Where((_, i) => matches(grades[i])).ToList();

    private static double? Fid(List<float[]> a, List<float[]> b) =>
        a.Count >= 2 && b.Count >= 2 ? Math.Round(FrechetDistance.Between(FeatureStatistics.Of(a), FeatureStatistics.Of(b)), 4) : null;

    /// <summary>Per grade, as many train indexes as the generated set has images of that grade, drawn without replacement.</summary>
    public static int[] FloorSample(IReadOnlyList<int> generatedGrades, IReadOnlyList<int> trainGrades, long seed)
    {
        var chosen = new List<int>();
        for (int g = 0; g < KlGrades.Count; g++)
        {
            int want = generatedGrades.Count(x => x == g);
            var pool = Enumerable.Range(0, trainGrades.Count).Where(i => trainGrades[i] == g).ToArray();
            var rng = SplitMix64.For(seed, g, 0);
            for (int i = pool.Length - 1; i > 0; i--)
            {
                int j = rng.NextInt(i + 1);
                (pool[i], pool[j]) = (pool[j], pool[i]);
            }
            chosen.AddRange(pool.Take(want));
        }
        return chosen.Order().ToArray();
    }

    private static ImageSetSummary Describe(string dir, KneeDataset set) => new() { Directory = dir, Images = set.Count, PerGrade = set.CountPerGrade() };
}
