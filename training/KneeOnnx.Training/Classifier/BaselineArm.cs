using KneeOnnx.IO;

namespace KneeOnnx.Training.Classifier;

/// <summary>
/// The real-only arm of an earlier verdict, adopted instead of trained again: it depends on the settings, the seed and
/// the real images only, so every further generated set compared against it costs one arm (and CAS) per seed, not two.
/// The earlier run must be finished and must match this one's settings and data; both are checked before anything is
/// copied (for every seed of a seeded verdict, before the first seed trains), and the copy then resumes as a finished
/// run, whose own checks run again.
/// </summary>
public static class BaselineArm
{
    /// <summary>Refuses, naming the file, a baseline folder without a finished real-only run of <paramref name="config"/> on these images.</summary>
    public static void Check(string baselineFolder, ClassifierConfig config, string dataSha256)
    {
        var (file, checkpoint) = Files(baselineFolder);
        foreach (string needed in new[] { file, checkpoint })
            if (!File.Exists(needed))
                throw new ArgumentException($"{needed}: --baseline holds no real-only classifier of seed {config.Seed} (expected the folder of an earlier augment-benefit --out with the same --seed and --seeds)");
        var state = ClassifierCheckpoint.ReadState(checkpoint);
        if (!ClassifierCheckpoint.SameSettings(state.Config, config))
            throw new ArgumentException($"{checkpoint}: --baseline was trained with other settings ({state.Config}); its real-only arm is not this verdict's");
        if (state.DataSha256 != dataSha256)
            throw new ArgumentException($"{checkpoint}: --baseline was trained on other train or val images than --data's");
        if (state.EpochsDone < config.Epochs)
            throw new ArgumentException($"{checkpoint}: --baseline's real-only run stopped after {state.EpochsDone} of {config.Epochs} epochs; finish it first (run its own command again)");
    }

    /// <summary>
    /// Copies the checked baseline's real-only classifier and checkpoint into <paramref name="outFolder"/>, the
    /// checkpoint last (its presence is what makes the arm finished); false, copying nothing, where the folder already
    /// holds a real-only run of its own (it is continued instead).
    /// </summary>
    public static bool Adopt(string baselineFolder, string outFolder, ClassifierConfig config, string dataSha256)
    {
        var (targetFile, targetCheckpoint) = Files(outFolder);
        if (File.Exists(targetCheckpoint)) return false;
        Check(baselineFolder, config, dataSha256);
        var (file, checkpoint) = Files(baselineFolder);
        Directory.CreateDirectory(outFolder);
        foreach (var (from, to) in new[] { (file, targetFile), (checkpoint, targetCheckpoint) })
            AtomicFile.Write(to, stream =>
            {
                using var source = File.OpenRead(from);
                source.CopyTo(stream);
            });
        return true;
    }

    private static (string File, string Checkpoint) Files(string folder)
    {
        string file = Path.Combine(folder, AugmentationBenefit.RealOnlyFile);
        return (file, Path.ChangeExtension(file, ".ckpt"));
    }
}
