using KneeOnnx.Training.Data;
using KneeOnnx.Training.Model;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests.Fixtures;

/// <summary>Briefly trained checkpoints on synthetic data, for tests that need weights which are not just initialisation.</summary>
public static class TinyRuns
{
    public static string Train(string runDir, string preset = Presets.Tiny, string conditioning = Conditioning.Add, int steps = 4,
                               double labelDropout = 0.1, int timesteps = 1000, bool sides = false, int? imageSize = null,
                               string prediction = Diffusion.PredictionType.Epsilon, bool zeroTerminalSnr = false)
    {
        var probe = Presets.Get(preset, imageSize: imageSize);
        var (images, grades) = sides ? SyntheticKnees.SidedInMemory(2, probe.ImageSize) : SyntheticKnees.InMemory(2, probe.ImageSize);
        var config = new TrainConfig
        {
            Data = "memory", Preset = preset, Conditioning = conditioning, Steps = steps, BatchSize = 2, LearningRate = 1e-3, WarmupSteps = 1,
            LabelDropout = conditioning == Conditioning.None ? 0 : labelDropout, TrainTimesteps = timesteps, Seed = 3,
            Sides = sides, ImageSize = imageSize, PredictionType = prediction, ZeroTerminalSnr = zeroTerminalSnr,
        };
        Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = runDir, Threads = 2, Device = "cpu", Output = new StringWriter(),
            Preloaded = KneeDataset.FromMemory(probe.ImageSize, images, grades, sides: sides ? SyntheticKnees.SideOfIndex(images.Length) : null),
        });
        return Path.Combine(runDir, Checkpoint.FileName);
    }
}
