using Google.Protobuf;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Export;
using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests.Fixtures;

/// <summary>A briefly trained tiny autoencoder (32² ↔ 4×8²) exported in the folder layout export-autoencoder writes.</summary>
public static class TinyAutoencoder
{
    /// <summary>Trains it in <paramref name="runDir"/> and exports it to <paramref name="folder"/>; returns the folder.</summary>
    public static string Export(string runDir, string folder, int steps = 3, long seed = 4, float scale = 0.8f)
    {
        var (images, grades) = SyntheticKnees.InMemory(2, 32);
        AutoencoderTrainer.Run(new AutoencoderTrainConfig
        {
            Data = "memory", Preset = AutoencoderPresets.Tiny, Crop = 32, Steps = steps, BatchSize = 4, AdversarialStart = 1000, CheckpointEvery = 1000, Seed = seed,
        }, new TrainRunOptions { RunDirectory = runDir, Threads = 2, Output = new StringWriter(), Preloaded = KneeDataset.FromMemory(32, images, grades), Device = "cpu" });
        string checkpoint = Path.Combine(runDir, AutoencoderCheckpoint.FileName);
        var state = AutoencoderCheckpoint.ReadState(checkpoint);
        var (_, model) = AutoencoderCheckpoint.LoadModel(checkpoint);
        using (model)
        {
            string weights = AutoencoderFiles.Sha256(checkpoint);
            foreach (var part in new[] { AutoencoderExporter.Encoder(model, state, scale, weights), AutoencoderExporter.Decoder(model, state, scale, weights) })
            {
                string file = Path.Combine(folder, part.Name, AutoencoderContract.FileName);
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllBytes(file, part.Proto.ToByteArray());
            }
        }
        return folder;
    }
}
