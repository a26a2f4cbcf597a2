using System.Globalization;
using Google.Protobuf;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Evaluation;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests;

public class ModelCardTests
{
    /// <summary>A two-step tiny run in DIR/run and its EMA export as DIR/m.onnx.</summary>
    private static (string Run, string Onnx) TinyModelWithItsRun(TempDirectory dir)
    {
        string run = dir.Combine("run");
        var (state, model) = Checkpoint.LoadModel(TinyRuns.Train(run, steps: 2));
        string onnx = dir.Combine("m.onnx");
        using (model)
            File.WriteAllBytes(onnx, OnnxExporter.Build(model, state, "ema").ToByteArray());
        return (run, onnx);
    }

    [Fact]
    public void CardCarriesTheRunAndTheEvaluationReportFiguresVerbatim()
    {
        using var dir = new TempDirectory();
        var (run, onnx) = TinyModelWithItsRun(dir);
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 3, side: 40, split: "val", firstIndex: 50);
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 4, side: 40, split: "train");
        var report = Evaluator.Run(new EvaluationRequest(dir.Combine("eval", "generated"), dir.Combine("data", "val"), dir.Combine("data", "train"), dir.Combine("eval"),
            GenerateFrom: new GenerateRequest(onnx, PerGrade: 2, Sampler: "ddim", Steps: 2)), new StringWriter())!;

        var (code, _, err) = InProcessCli.Train("card", "--model", onnx, "--run", run, "--evaluation", dir.Combine("eval"), "--evaluation-command", "kneeonnx-train evaluate --model m.onnx");
        Assert.True(code == 0, err);
        string card = File.ReadAllText(dir.Combine("m.md"));
        Assert.Contains("## Training", card);
        Assert.Contains("2 steps of batch 2", card);
        Assert.Contains("`kneeonnx-train evaluate --model m.onnx`", card);
        string fidAll = report.FidRn18["all"]!.Value.ToString("F1", CultureInfo.InvariantCulture);
        Assert.Contains($"| all | {fidAll} |", card);
        // One renderer: every line from the FID table to the memorisation audit reads the same in report.md.
        string reportMd = File.ReadAllText(dir.Combine("eval", "report.md"));
        var quoted = card.Split('\n').SkipWhile(l => !l.StartsWith("| grade |")).TakeWhile(l => !l.StartsWith("## ")).Where(l => l.Length > 0).ToList();
        Assert.Contains(quoted, l => l.StartsWith("Memorisation audit"));
        Assert.All(quoted, l => Assert.Contains(l, reportMd));
        Assert.Contains("Memorisation audit", card);
        Assert.Contains("Chen P., Knee Osteoarthritis Severity Grading Dataset", card);
        Assert.Contains("Not a diagnostic tool", card);

        // The evaluation of this file is refused for another (the same weights with one more metadata entry).
        var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        proto.MetadataProps.Add(new Onnx.StringStringEntryProto { Key = "kneeonnx.test_marker", Value = "other" });
        File.WriteAllBytes(dir.Combine("other.onnx"), proto.ToByteArray());
        (code, _, err) = InProcessCli.Train("card", "--model", dir.Combine("other.onnx"), "--evaluation", dir.Combine("eval"));
        Assert.Equal(2, code);
        Assert.Contains("evaluated another model", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.False(File.Exists(dir.Combine("other.md")));

        // Evaluation folders do not outlive their machine: rendered again without it (new notes, say), the card keeps
        // the evaluation of this same file word for word.
        Directory.Delete(dir.Combine("eval"), recursive: true);
        (code, var said, err) = InProcessCli.Train("card", "--model", onnx);
        Assert.True(code == 0, err);
        Assert.Contains("kept the Evaluation section", said);
        string Evaluation(string text) => string.Concat(text.Split('\n').SkipWhile(l => l != "## Evaluation on val").TakeWhile((l, i) => i == 0 || !l.StartsWith("## ")).Select(l => l + "\n"));
        Assert.Contains($"| all | {fidAll} |", Evaluation(card));
        Assert.Equal(Evaluation(card), Evaluation(File.ReadAllText(dir.Combine("m.md"))));
        // Notes without a heading get one, so a second render keeps the evaluation without swallowing them.
        File.WriteAllText(dir.Combine("notes.md"), "Our reading: the figures are early.\n");
        for (int render = 0; render < 2; render++)
        {
            (code, said, err) = InProcessCli.Train("card", "--model", onnx, "--notes", dir.Combine("notes.md"));
            Assert.True(code == 0, err);
        }
        string noted = File.ReadAllText(dir.Combine("m.md"));
        Assert.Single(noted.Split("Our reading").Skip(1));
        Assert.DoesNotContain("Our reading", Evaluation(noted));
        Assert.Equal(Evaluation(card), Evaluation(noted));
        // ...and only of this file: under the same name, other bytes lose it, and the user is told.
        File.Copy(dir.Combine("other.onnx"), onnx, overwrite: true);
        (code, said, err) = InProcessCli.Train("card", "--model", onnx);
        Assert.True(code == 0, err);
        Assert.Contains("had an Evaluation section for another file", said);
        Assert.DoesNotContain("## Evaluation on val", File.ReadAllText(dir.Combine("m.md")));
    }

    /// <summary>
    /// Run folders do not outlive their machine: a card re-rendered without --run (a new evaluation, say) keeps the
    /// Training section the card of the same file already had — and only of the same file: other weights get none.
    /// </summary>
    [Fact]
    public void ACardRenderedAgainWithoutItsRunKeepsItsTrainingSectionForTheSameFileOnly()
    {
        using var dir = new TempDirectory();
        var (run, onnx) = TinyModelWithItsRun(dir);
        var (code, _, err) = InProcessCli.Train("card", "--model", onnx, "--run", run);
        Assert.True(code == 0, err);
        string first = File.ReadAllText(dir.Combine("m.md"));
        string Training(string card) => string.Concat(card.Split('\n').SkipWhile(l => l != "## Training").TakeWhile((l, i) => i == 0 || !l.StartsWith("## ")).Select(l => l + "\n"));
        Assert.Contains("2 steps of batch 2", Training(first));

        Directory.Delete(run, recursive: true);
        (code, var said, err) = InProcessCli.Train("card", "--model", onnx);
        Assert.True(code == 0, err);
        Assert.Contains("kept the Training section", said);
        Assert.Equal(Training(first), Training(File.ReadAllText(dir.Combine("m.md"))));

        // Another file under the same name (here the same weights with one more metadata entry: its SHA-256 differs, and
        // the card names a file by its SHA-256): the old story is not claimed for it, and the user is told.
        var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        proto.MetadataProps.Add(new Onnx.StringStringEntryProto { Key = "kneeonnx.test_marker", Value = "other" });
        File.WriteAllBytes(onnx, proto.ToByteArray());
        (code, said, err) = InProcessCli.Train("card", "--model", onnx);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("kept the Training section", said);
        Assert.Contains("warning", said);
        Assert.DoesNotContain("## Training", File.ReadAllText(dir.Combine("m.md")));
    }

    /// <summary>
    /// set-defaults changes metadata only: the card of the file it rewrote still tells the weights' training, and a
    /// render without --run keeps it for the new file (which records the old one's SHA-256) — the evaluation, made
    /// under the old defaults, is not carried over.
    /// </summary>
    [Fact]
    public void ACardKeepsItsTrainingSectionAcrossSetDefaults()
    {
        using var dir = new TempDirectory();
        var (run, onnx) = TinyModelWithItsRun(dir);
        var (code, _, err) = InProcessCli.Train("card", "--model", onnx, "--run", run);
        Assert.True(code == 0, err);
        string Training(string card) => string.Concat(card.Split('\n').SkipWhile(l => l != "## Training").TakeWhile((l, i) => i == 0 || !l.StartsWith("## ")).Select(l => l + "\n"));
        string first = File.ReadAllText(dir.Combine("m.md"));
        Directory.Delete(run, recursive: true);

        (code, _, err) = InProcessCli.Train("set-defaults", "--model", onnx, "--default-sampler", "ddim", "--default-steps", "7");
        Assert.True(code == 0, err);
        (code, var said, err) = InProcessCli.Train("card", "--model", onnx);
        Assert.True(code == 0, err);
        Assert.Contains("which set-defaults rewrote into this file", said);
        string second = File.ReadAllText(dir.Combine("m.md"));
        Assert.Contains("2 steps of batch 2", Training(second));
        Assert.Equal(Training(first), Training(second));
        Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(onnx))), second);
        Assert.Contains("Recommended sampler: ddim, 7 steps", second);

        // A second set-defaults after that render: the card now names the middle file, which the newest records.
        (code, _, err) = InProcessCli.Train("set-defaults", "--model", onnx, "--default-sampler", "dpm++2m", "--default-steps", "5");
        Assert.True(code == 0, err);
        (code, _, err) = InProcessCli.Train("card", "--model", onnx);
        Assert.True(code == 0, err);
        Assert.Equal(Training(first), Training(File.ReadAllText(dir.Combine("m.md"))));

        // Two set-defaults with no render between: the card names the file two rewrites back, which the chain still holds.
        foreach (var (sampler, steps) in new[] { ("ddim", "9"), ("dpm++3m", "11") })
        {
            (code, _, err) = InProcessCli.Train("set-defaults", "--model", onnx, "--default-sampler", sampler, "--default-steps", steps);
            Assert.True(code == 0, err);
        }
        (code, said, err) = InProcessCli.Train("card", "--model", onnx);
        Assert.True(code == 0, err);
        Assert.Contains("which set-defaults rewrote into this file", said);
        Assert.Equal(Training(first), Training(File.ReadAllText(dir.Combine("m.md"))));

        // The same defaults again: nothing is written, so the file keeps its SHA-256 (and its card, its manifests' names).
        byte[] bytes = File.ReadAllBytes(onnx);
        (code, said, err) = InProcessCli.Train("set-defaults", "--model", onnx, "--default-sampler", "dpm++3m", "--default-steps", "11");
        Assert.True(code == 0, err);
        Assert.Contains("already carries these defaults", said);
        Assert.Equal(bytes, File.ReadAllBytes(onnx));
    }

    /// <summary>The kept sections are found in a card whose lines end in CRLF (a Windows checkout), last in the file or not.</summary>
    [Theory]
    [InlineData("\r\n", "Training")]
    [InlineData("\r\n", "Evaluation on val")]
    [InlineData("\n", "Speed")]
    public void TheKeptSectionsSurviveCrlfAndTheEndOfTheFile(string newline, string lastSection)
    {
        using var dir = new TempDirectory();
        string sha = new string('a', 64);
        string[][] sections = [["## Training", "", "2 steps of batch 2.", ""], ["## Evaluation on val", "", "figures", ""], ["## Speed", "", "fast", ""]];
        var lines = new List<string> { "# m — KneeOnnx model card", "", $"| file | `m.onnx`, 1.0 MB, SHA-256 `{sha}` |", "" };
        lines.AddRange(sections.OrderBy(s => s[0] == "## " + lastSection ? 1 : 0).SelectMany(s => s)); // stable: the named one moves last
        string card = dir.Combine("m.md");
        File.WriteAllText(card, string.Join(newline, lines));
        Assert.Equal("## Training\n\n2 steps of batch 2.\n\n", ModelCardSections.KeptTraining(card, sha));
        Assert.Null(ModelCardSections.KeptTraining(card, new string('b', 64)));
        Assert.Equal("## Evaluation on val\n\nfigures\n\n", ModelCardSections.KeptEvaluation(card, sha));
        Assert.Null(ModelCardSections.KeptEvaluation(card, new string('b', 64)));
        File.WriteAllText(card, string.Join(newline, lines.Where(l => !l.StartsWith("## Training"))));
        Assert.Null(ModelCardSections.KeptTraining(card, sha));
    }

    [Fact]
    public void ALatentModelsCardGivesTheDecodedSizeAndTheLatentSignature()
    {
        // The tiny latent fixture: a 4×8² U-Net whose decoder writes 32² images. A card that copied the pixel
        // wording would call it an 8×8 radiograph with one channel.
        using var latent = new TinyLatentModel();
        string unet = Path.Combine(latent.WriteVariant("knee-folder"), "unet", "model.onnx");
        var (code, _, err) = InProcessCli.Train("card", "--model", unet);
        Assert.True(code == 0, err);
        string card = File.ReadAllText(Path.ChangeExtension(unet, ".md"));
        Assert.StartsWith("# knee-folder — KneeOnnx model card", card); // the folder users name, not "model"
        Assert.Contains("generates 32×32 grayscale knee radiographs", card);
        Assert.Contains("4×8×8 latents", card);
        Assert.Contains("`sample` float32 [N,4,H,W]", card);
        Assert.Contains("`noise` float32 [N,4,H,W]", card);
        Assert.Contains(latent.DecoderSha256, card);
        Assert.DoesNotContain("pixel space [-1, 1] (gray/127.5", card);
        // Used through its folder, with the tool's sampler when the model carries none.
        Assert.Contains("`kneeonnx-gen generate --model knee-folder --sampler ddpm --steps 50 --out DIR`", card);
    }

    [Fact]
    public void CardWithAMissingReportIsAOneLineError()
    {
        using var dir = new TempDirectory();
        using var model = new TinyOnnxModel();
        var (code, _, err) = InProcessCli.Train("card", "--model", model.Path, "--evaluation", dir.Combine("nowhere"));
        Assert.Equal(2, code);
        Assert.Contains("report.json", err);

        Directory.CreateDirectory(dir.Combine("bench"));
        File.WriteAllText(dir.Combine("bench", "bench.json"), BenchJson("0000"));
        (code, _, err) = InProcessCli.Train("card", "--model", model.Path, "--bench", dir.Combine("bench"));
        Assert.Equal(2, code);
        Assert.Contains("measured another model", err);
    }

    private static string BenchJson(string sha256) => $$"""
        {"modelSha256": "{{sha256}}", "machine": {"cpu": "Test CPU", "logicalCores": 2, "provider": "cpu", "os": "x"},
         "sampling": [{"sampler": "ddim", "steps": 50, "batch": 16, "ortImagesPerSecond": 0.7372, "torchSharpImagesPerSecond": 0.5}], "rssRatio": 1.01}
        """;

    [Fact]
    public void CardQuotesTheSpeedOfItsOwnModelFromBenchJson()
    {
        using var dir = new TempDirectory();
        using var model = new TinyOnnxModel();
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(model.Path)));
        Directory.CreateDirectory(dir.Combine("bench"));
        File.WriteAllText(dir.Combine("bench", "bench.json"), BenchJson(sha));
        var (code, _, err) = InProcessCli.Train("card", "--model", model.Path, "--bench", dir.Combine("bench"));
        Assert.True(code == 0, err);
        string card = File.ReadAllText(Path.ChangeExtension(model.Path, ".md"));
        Assert.Contains("On Test CPU (2 cores, cpu provider)", card);
        Assert.Contains("| ddim | 50 | 16 | 0.7372 |", card);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"modelSha256\": \"0000\", \"sampling\": []}")]
    [InlineData("{\"modelSha256\": \"0000\", \"machine\": {\"cpu\": \"x\", \"logicalCores\": 2, \"provider\": \"cpu\"}, \"sampling\": {}}")]
    public void AWrongShapedBenchJsonIsAOneLineErrorNamingTheFile(string text)
    {
        using var dir = new TempDirectory();
        using var model = new TinyOnnxModel();
        Directory.CreateDirectory(dir.Combine("bench"));
        File.WriteAllText(dir.Combine("bench", "bench.json"), text);
        var (code, _, err) = InProcessCli.Train("card", "--model", model.Path, "--bench", dir.Combine("bench"));
        Assert.Equal(2, code);
        Assert.Contains(dir.Combine("bench", "bench.json"), err);
        Assert.Single(err.Trim().Split('\n'));
    }
}
