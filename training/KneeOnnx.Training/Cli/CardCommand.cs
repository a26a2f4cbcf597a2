using System.Globalization;
using System.Text;
using CommandLine;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Bench;
using KneeOnnx.Training.Evaluation;
using KneeOnnx.Training.Export;

namespace KneeOnnx.Training.Cli;

[Verb("card", HelpText = "Rewrite FILE.onnx's model card (FILE.md) with the training run, the evaluation report and the benchmark that measured it.")]
public sealed class CardOptions
{
    [Option("model", Required = true, HelpText = "The exported model whose card is written.")]
    public string Model { get; set; } = "";

    [Option("run", HelpText = "Its training run folder (config.json, loss.csv).")]
    public string? Run { get; set; }

    [Option("machine", HelpText = "Words for the machine it trained on, e.g. \"2-core AMD EPYC, no GPU\".")]
    public string? Machine { get; set; }

    [Option("evaluation", HelpText = "Folder holding evaluate's report.json for this model.")]
    public string? Evaluation { get; set; }

    [Option("evaluation-command", HelpText = "The command that produced the report, quoted in the card.")]
    public string? EvaluationCommand { get; set; }

    [Option("bench", HelpText = "Folder holding bench.json for this model.")]
    public string? Bench { get; set; }

    [Option("notes", HelpText = "A Markdown file of the maintainers' own reading of the figures (limitations, goals met or not), inserted after them.")]
    public string? Notes { get; set; }

    [Option("recommend-sampler", HelpText = "Sampler recommended in the card (default: the one the model carries, else the tool's).")]
    public string? RecommendSampler { get; set; }

    [Option("recommend-steps", HelpText = "Steps recommended in the card (default: the model's, else the tool's).")]
    public int? RecommendSteps { get; set; }
}

internal static class CardCommand
{
    private const string NotesHeading = "## Notes\n\n";

    public static int Run(CardOptions o, TextWriter output)
    {
        if (o.RecommendSteps < 1) throw new ArgumentException($"--recommend-steps must be at least 1, got {o.RecommendSteps}");
        if (o.RecommendSampler is not null && !KneeOnnx.Schedulers.SchedulerFactory.Names.Contains(o.RecommendSampler))
            throw new ArgumentException($"--recommend-sampler '{o.RecommendSampler}' is not one of {string.Join(", ", KneeOnnx.Schedulers.SchedulerFactory.Names)}");
        if (o.Notes is not null && !File.Exists(o.Notes)) throw new FileNotFoundException($"{o.Notes}: --notes file not found", o.Notes);
        string card = ModelCard.PathFor(o.Model);
        // The card is written over FILE.md: never over the model itself or over one of the files it is made from.
        KneeOnnx.Validation.OutputGuard.File(card, "the model card (--model with .md)",
        [
            new("--model", o.Model), new("--notes", o.Notes),
            new("--run", o.Run is null ? null : Path.Combine(o.Run, Runs.Trainer.ConfigFileName)),
            new("--run", o.Run is null ? null : Path.Combine(o.Run, Runs.LossLog.FileName)),
            new("--evaluation", o.Evaluation is null ? null : Path.Combine(o.Evaluation, EvaluationReport.FileName)),
            new("--bench", o.Bench is null ? null : Path.Combine(o.Bench, BenchSummary.FileName)),
        ], KneeOnnx.Validation.FileKind.Text);
        var (info, proto) = OnnxWeightImporter.Read(o.Model);
        long parameters;
        using (var net = new Model.UNet(info.Model))
            parameters = net.ParameterCount;
        var meta = proto.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        string parity = meta.TryGetValue(ModelContract.Keys.SelfCheckMaxAbsDiff, out var diff) ? $"max abs difference to TorchSharp {diff} at export (self-check)" : "not recorded";
        // The model's own default sampler is the one source of truth; the options only override it for the card.
        string sampler = o.RecommendSampler ?? meta.GetValueOrDefault(ModelContract.Keys.DefaultSampler) ?? Generation.SamplerSettings.DefaultSampler;
        int steps = o.RecommendSteps
            ?? (o.RecommendSampler is null && meta.TryGetValue(ModelContract.Keys.DefaultSteps, out var carried) ? int.Parse(carried, CultureInfo.InvariantCulture) : (int?)null)
            ?? Generation.SamplerSettings.DefaultSteps;
        // A latent U-Net is used through its folder (unet/model.onnx beside vae_decoder/): name the folder.
        string modelArgument = meta.ContainsKey(ModelContract.Keys.Decoder)
            ? Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(o.Model))))!
            : Path.GetFileName(o.Model);
        string guidance = meta.GetValueOrDefault(ModelContract.Keys.DefaultGuidance) is { } w && w != "1" ? w : "";
        string interval = guidance.Length > 0 && meta.GetValueOrDefault(ModelContract.Keys.DefaultGuidanceInterval) is { } gi ? gi : "";
        // The model's spacing goes with its own sampler only (SamplerSettings.ChooseSpacing).
        string spacing = (o.RecommendSampler is null || o.RecommendSampler == meta.GetValueOrDefault(ModelContract.Keys.DefaultSampler))
            && meta.GetValueOrDefault(ModelContract.Keys.DefaultSpacing) is { } sp ? sp : "";
        string eta = (o.RecommendSampler is null || o.RecommendSampler == meta.GetValueOrDefault(ModelContract.Keys.DefaultSampler))
            && meta.GetValueOrDefault(ModelContract.Keys.DefaultEta) is { } e ? e : "";
        var sections = new StringBuilder($"## Use\n\nRecommended sampler: {sampler}, {steps} steps{(spacing.Length > 0 ? $", {spacing} spacing" : "")}{(eta.Length > 0 ? $", η {eta}" : "")}{(guidance.Length > 0 ? $", guidance {guidance}{(interval.Length > 0 ? $" at noise levels σ in ({interval}]" : "")} (the model's default)" : "")} "
            + $"(`kneeonnx-gen generate --model {modelArgument} --sampler {sampler} --steps {steps}{(spacing.Length > 0 ? $" --spacing {spacing}" : "")}{(eta.Length > 0 ? $" --eta {eta}" : "")}{(guidance.Length > 0 ? $" --guidance {guidance}" : "")}{(interval.Length > 0 ? $" --guidance-interval {interval}" : "")} --out DIR`).\n\n");
        if (o.Run is not null)
            sections.Append(ModelCardSections.Training(o.Run, o.Machine, info.TrainSteps, meta.GetValueOrDefault(ModelContract.Keys.DatasetSha256), info.Model.Preset));
        else if (ModelCardSections.KeptTraining(card, info.Sha256) is { } kept)
        {
            // Run folders do not outlive their machine; a card re-rendered later (a new evaluation) keeps the story.
            sections.Append(kept);
            output.WriteLine($"kept the Training section of {card}: it describes this file (sha256 {info.Sha256[..12]}…) and no --run was given");
        }
        else if ((meta.GetValueOrDefault(ModelContract.Keys.DefaultsSetFrom) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Reverse()
                     .Select(sha => (Sha: sha, Kept: ModelCardSections.KeptTraining(card, sha))).FirstOrDefault(a => a.Kept is not null) is { Kept: { } keptFromEarlier } ancestor)
        {
            // set-defaults changed metadata only: an earlier file's training is these weights' training.
            sections.Append(keptFromEarlier);
            output.WriteLine($"kept the Training section of {card}: it describes sha256 {ancestor.Sha[..12]}…, which set-defaults rewrote into this file (sha256 {info.Sha256[..12]}…) with the same weights");
        }
        else if (ModelCardSections.HasTraining(card))
            output.WriteLine($"warning: {card} had a Training section for another file (its SHA-256 is not {info.Sha256[..12]}…); the new card has none (give --run)");
        if (o.Evaluation is not null)
        {
            string reportPath = Path.Combine(o.Evaluation, EvaluationReport.FileName);
            var report = EvaluationReport.Load(reportPath);
            // A report of images generated here names its model; one scored from a folder (--generated) cannot be checked.
            if (report.Generation is { } generation && generation.ModelSha256 != info.Sha256)
                throw new ArgumentException($"{reportPath}: evaluated another model (sha256 {generation.ModelSha256}), not {o.Model}");
            sections.Append(EvaluationMarkdown.CardSection(report, o.EvaluationCommand ?? "kneeonnx-train evaluate ..."));
        }
        else if (ModelCardSections.KeptEvaluation(card, info.Sha256) is { } keptEvaluation)
        {
            sections.Append(keptEvaluation);
            output.WriteLine($"kept the Evaluation section of {card}: it describes this file (sha256 {info.Sha256[..12]}…) and no --evaluation was given");
        }
        else if (ModelCardSections.HasEvaluation(card))
            output.WriteLine($"warning: {card} had an Evaluation section for another file (its SHA-256 is not {info.Sha256[..12]}…); the new card has none (give --evaluation)");
        if (o.Bench is not null)
        {
            string benchPath = Path.Combine(o.Bench, BenchSummary.FileName);
            var bench = BenchSummary.Load(benchPath);
            if (bench.ModelSha256 != info.Sha256)
                throw new ArgumentException($"{benchPath}: measured another model (sha256 {bench.ModelSha256}), not {o.Model}");
            sections.Append(ModelCardSections.Speed(bench));
        }
        if (o.Notes is not null)
        {
            string notes = File.ReadAllText(o.Notes).ReplaceLineEndings("\n").Trim();
            // Notes without a heading of their own would read as the end of the section before them, and a later
            // render that keeps that section would carry them twice.
            if (!notes.StartsWith("## ", StringComparison.Ordinal)) sections.Append(NotesHeading);
            sections.Append(notes).Append("\n\n");
        }
        ModelCard.Write(o.Model, proto, parameters, info.Sha256, parity, sections.ToString());
        output.WriteLine($"wrote {ModelCard.PathFor(o.Model)} ({info.Model.Preset}, {parameters.ToString("N0", CultureInfo.InvariantCulture)} parameters)");
        return 0;
    }
}
