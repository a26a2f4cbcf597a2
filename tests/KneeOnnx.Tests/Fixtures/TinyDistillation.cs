using Google.Protobuf;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests.Fixtures;

/// <summary>Short distillation runs of the tiny sided model on in-memory synthetic knees, and their exports.</summary>
public static class TinyDistillation
{
    public static TrainConfig Config(string teacher, double scale, int steps) => new()
    {
        Data = "memory", Preset = Presets.Tiny, Steps = steps, BatchSize = 4, LearningRate = 1e-3, WarmupSteps = 1, Seed = 3,
        InitFrom = teacher, DistillGuidance = scale, Precision = "fp32", Sides = true,
    };

    /// <returns>What the trainer wrote.</returns>
    public static string Run(TrainConfig config, string runDir, bool resume = false, long? stopAt = null)
    {
        var (images, grades) = SyntheticKnees.SidedInMemory(2, 32);
        var output = new StringWriter();
        Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = runDir, Resume = resume, Threads = 2, Device = "cpu", Output = output, StopAtStep = stopAt,
            Preloaded = KneeDataset.FromMemory(32, images, grades, sides: SyntheticKnees.SideOfIndex(images.Length)),
        });
        return output.ToString();
    }

    /// <summary>The run's EMA weights exported to <paramref name="path"/>.</summary>
    public static Onnx.ModelProto Export(string runDir, string path)
    {
        var (state, model) = Checkpoint.LoadModel(Path.Combine(runDir, Checkpoint.FileName));
        Onnx.ModelProto proto;
        using (model) proto = OnnxExporter.Build(model, state, "ema");
        File.WriteAllBytes(path, proto.ToByteArray());
        return proto;
    }
}
