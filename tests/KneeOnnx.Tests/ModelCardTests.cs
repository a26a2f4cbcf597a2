using System.Globalization;
using Google.Protobuf;
using KneeOnnx.Tests.Fixtures;
using KneeOnnx.Training.Evaluation;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Training;

namespace KneeOnnx.Tests;

public class ModelCardTests
{
    [Fact]
    public void CardCarriesTheRunAndTheEvaluationReportFiguresVerbatim()
    {
        using var dir = new TempDirectory();
        string run = dir.Combine("run");
        var (state, model) = Checkpoint.LoadModel(TinyRuns.Train(run, steps: 2));
        string onnx = dir.Combine("m.onnx");
        using (model)
            File.WriteAllBytes(onnx, OnnxExporter.Build(model, state, "ema").ToByteArray());
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 3, side: 40, split: "val", firstIndex: 50);
        SyntheticKnees.WriteDataset(dir.Combine("data"), perGrade: 4, side: 40, split: "train");
        var report = Evaluator.Run(new EvaluationRequest(dir.Combine("eval", "generated"), dir.Combine("data", "val"), dir.Combine("data", "train"), dir.Combine("eval"),
            GenerateFrom: new GenerateRequest(onnx, PerGrade: 2, Sampler: "ddim", Steps: 2)), new StringWriter());

        var (code, _, err) = InProcessCli.Train("card", "--model", onnx, "--run", run, "--evaluation", dir.Combine("eval"), "--evaluation-command", "kneeonnx-train evaluate --model m.onnx");
        Assert.True(code == 0, err);
        string card = File.ReadAllText(dir.Combine("m.md"));
        Assert.Contains("## Training", card);
        Assert.Contains("2 steps of batch 2", card);
        Assert.Contains("`kneeonnx-train evaluate --model m.onnx`", card);
        string fidAll = report["fidRn18"]!["all"]!.GetValue<double>().ToString("F1", CultureInfo.InvariantCulture);
        Assert.Contains($"| all | {fidAll} |", card);
        Assert.Contains("Memorisation audit", card);
        Assert.Contains("Chen P., Knee Osteoarthritis Severity Grading Dataset", card);
        Assert.Contains("Not a diagnostic tool", card);
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
        File.WriteAllText(dir.Combine("bench", "bench.json"), "{\"modelSha256\": \"0000\", \"sampling\": []}");
        (code, _, err) = InProcessCli.Train("card", "--model", model.Path, "--bench", dir.Combine("bench"));
        Assert.Equal(2, code);
        Assert.Contains("measured another model", err);
    }
}
