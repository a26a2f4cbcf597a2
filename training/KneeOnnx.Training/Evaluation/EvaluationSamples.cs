using System.Diagnostics;
using KneeOnnx.Generation;
using KneeOnnx.Output;
using KneeOnnx.Runtime;

namespace KneeOnnx.Training.Evaluation;

/// <summary>Which images to generate for an evaluation run from a model file.</summary>
/// <param name="Sides">--sides of a side-conditioned model (L, R, L,R or any); PerGrade images are made per listed side.</param>
/// <param name="AllowSpinning">false: ONNX Runtime's idle threads sleep (<see cref="RuntimeOptions.AllowSpinning"/>), for evaluating beside training.</param>
/// <param name="Guidance">null: the model's own scale, else 1 (<see cref="SamplerSettings.ChooseGuidance"/>).</param>
/// <param name="GuidanceInterval">null: the model's own interval, else every step (<see cref="SamplerSettings.ChooseGuidanceInterval"/>).</param>
/// <param name="Eta">null: the model's own η with its own sampler, else the sampler's own (<see cref="SamplerSettings.ChooseEta"/>).</param>
/// <param name="Spacing">null: the model's own timestep spacing with its own sampler, else trailing (<see cref="SamplerSettings.ChooseSpacing"/>).</param>
/// <param name="Threads">ONNX Runtime's intra-op threads (0 = every core, <see cref="KneeOnnx.Validation.ThreadCount.Resolve"/>).</param>
/// <param name="Sampler">null: the model's own sampler, else the global default (<see cref="SamplerSettings.Choose"/>); likewise <paramref name="Steps"/>.</param>
/// <param name="StopBy">stop the generation before a batch that would end after this time (the images made are kept; the
/// same request again makes the rest); null: no limit.</param>
/// <param name="GuideModel">the autoguidance model (<see cref="SamplerSettings.AutoGuidance"/> = <paramref name="AutoGuidance"/>); null: none.</param>
public sealed record GenerateRequest(string Model, int PerGrade, string? Sampler = null, int? Steps = null, long Seed = 1, int Batch = 16, double? Guidance = null,
                                     string? Sides = null, bool AllowSpinning = true, GuidanceInterval? GuidanceInterval = null, string? Spacing = null, int Threads = 0,
                                     DateTime? StopBy = null, string? GuideModel = null, double AutoGuidance = 1, double? Eta = null)
{
    /// <summary>How the model's ONNX Runtime sessions run: the generation's and the denoising check's alike.</summary>
    public RuntimeOptions Runtime => new() { AllowSpinning = AllowSpinning, IntraOpThreads = Threads };
}

/// <summary>
/// Generates the evaluated set with the inference library (the same code, file names and determinism as
/// <c>kneeonnx-gen generate</c>), so one evaluate command goes from a model file to a report. Existing files of the
/// same request are kept: an interrupted evaluation resumes. Each (model, sampler, seed, guidance) gets its own folder,
/// so a rerun with another model never scores the previous model's images.
/// </summary>
public static class EvaluationSamples
{
    /// <returns>what was generated, and the folder holding exactly this request's images (under <paramref name="root"/>);
    /// null when <see cref="GenerateRequest.StopBy"/> stopped it before the set was whole.</returns>
    public static (GenerationInfo Generation, string Folder)? Generate(GenerateRequest request, string root, TextWriter log)
    {
        if (request.PerGrade < 2) throw new ArgumentException($"--per-grade must be at least 2 (FID needs two images), got {request.PerGrade}");
        AutoGuidanceOptions.CheckPair(request.GuideModel, request.AutoGuidance);
        using var model = KneeModel.Open(request.Model, request.Runtime);
        using var guide = request.GuideModel is null ? null : KneeModel.OpenGuide(request.GuideModel, request.Runtime);
        var (sampler, steps) = SamplerSettings.Choose(request.Sampler, request.Steps, model.Info);
        var settings = new SamplerSettings
        {
            Sampler = sampler, Steps = steps, Guidance = SamplerSettings.ChooseGuidance(request.Guidance, model.Info),
            GuidanceInterval = SamplerSettings.ChooseGuidanceInterval(request.GuidanceInterval, model.Info),
            Spacing = SamplerSettings.ChooseSpacing(request.Spacing, model.Info, sampler),
            Eta = SamplerSettings.ChooseEta(request.Eta, model.Info, sampler),
            AutoGuidance = request.AutoGuidance,
        };
        settings.Validate(model.Info);
        if (guide is not null)
        {
            GuideModelPairing.Check(model.Path, model.Info, model.DecoderInfo, guide.Path, guide.Info, guide.DecoderInfo);
            GuideModelPairing.CheckGuidance(guide.Path, guide.Info, settings.Guidance);
        }
        int[] sides = SideList.Parse(request.Sides, model.Info);
        string sideTag = sides.Length == 0 ? "" : "_" + string.Join("", sides.Select(KneeSides.Label));
        string guideTag = guide is null ? "" : "_g" + guide.Sha256[..8];
        string outDir = Path.Combine(root, $"{model.Sha256[..12]}_{settings.Tag}{guideTag}_s{request.Seed}" + sideTag);
        var grades = Enumerable.Range(0, model.Info.GradeNames.Count).ToArray();
        var plan = GenerationPlan.Build(grades, request.PerGrade, request.Seed, settings, Shard.Whole, sides);
        var pending = plan.Where(p => !File.Exists(Path.Combine(outDir, p.RelativePath))).ToList();
        log.WriteLine($"generate: {request.PerGrade} per grade with {Path.GetFileName(request.Model)} ({settings.Tag}, seed {request.Seed}); {model.ProviderLine}; {plan.Count - pending.Count} already there");
        var timer = Stopwatch.StartNew();
        using var generator = new ImageGenerator(model, guide);
        foreach (int g in grades) Directory.CreateDirectory(Path.Combine(outDir, g.ToString()));
        int made;
        try
        {
            made = generator.WritePlanned(pending, request.Seed, settings, outDir, request.Batch, progress: new ThrottledProgressWriter(log, TimeSpan.FromSeconds(10)), stopBy: request.StopBy);
        }
        catch (Exception e) when (OutOfMemory.Is(e))
        {
            throw new DeviceOutOfMemoryException(OutOfMemory.Describe(e, request.Batch, "batch",
                "generate the set with kneeonnx-gen generate --batch B (smaller) and pass --generated; images written so far are kept"), e);
        }
        double seconds = timer.Elapsed.TotalSeconds;
        if (made < pending.Count)
        {
            log.WriteLine($"stopped by --max-minutes: {made} of {pending.Count} images made in {seconds:F0}s ({plan.Count - pending.Count + made} of {plan.Count} in {outDir}); "
                + "no report yet: the same command again makes the rest and then evaluates");
            return null;
        }
        if (pending.Count > 0) log.WriteLine($"  {pending.Count} images in {seconds:F0}s ({pending.Count / seconds:F2} images/s)");
        var generation = new GenerationInfo
        {
            Model = request.Model, ModelSha256 = model.Sha256, Sampler = settings.Tag, Seed = request.Seed, PerGrade = request.PerGrade,
            Sides = sides.Length == 0 ? null : string.Join(",", sides.Select(KneeSides.Label)),
            Guidance = settings.Guidance, GuidanceInterval = settings.EffectiveGuidanceInterval?.ToString(), DistilledGuidance = model.Info.DistilledGuidance, GuideModel = request.GuideModel, GuideSha256 = guide?.Sha256, Provider = model.Provider, GeneratedNow = pending.Count, Seconds = Math.Round(seconds, 1), Folder = outDir,
        };
        return (generation, outDir);
    }
}
