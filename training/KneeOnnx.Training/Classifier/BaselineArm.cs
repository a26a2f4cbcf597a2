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

    /// <summary>Names the adopted arm's source beside it, so a report written by a later run of the same folder still says so.</summary>
    public const string MarkerFile = "augment-real-only.adopted-from";

    /// <summary>
    /// Copies the checked baseline's real-only classifier and checkpoint into <paramref name="outFolder"/>, the
    /// checkpoint last (its presence is what makes the arm finished); false, copying nothing, where the folder already
    /// holds a real-only run (its own, or one adopted earlier: <see cref="AdoptedFrom"/> tells which).
    /// </summary>
    public static bool Adopt(string baselineFolder, string outFolder, ClassifierConfig config, string dataSha256)
    {
        var (targetFile, targetCheckpoint) = Files(outFolder);
        if (File.Exists(targetCheckpoint)) return false;
        Check(baselineFolder, config, dataSha256);
        var (file, checkpoint) = Files(baselineFolder);
        Directory.CreateDirectory(outFolder);
        AtomicFile.Write(targetFile, stream => Copy(file, stream));
        // Before the checkpoint: an adoption stopped between the two is copied again by the next run, marker included.
        AtomicFile.WriteAllText(Path.Combine(outFolder, MarkerFile), Path.GetFullPath(baselineFolder) + "\n");
        AtomicFile.Write(targetCheckpoint, stream => Copy(checkpoint, stream));
        return true;
    }

    /// <summary>The folder <paramref name="outFolder"/>'s finished real-only arm was adopted from; null where it was trained there.</summary>
    public static string? AdoptedFrom(string outFolder)
    {
        string marker = Path.Combine(outFolder, MarkerFile);
        return File.Exists(marker) && File.Exists(Files(outFolder).Checkpoint) ? File.ReadAllText(marker).Trim() : null;
    }

    private static void Copy(string from, Stream to)
    {
        using var source = File.OpenRead(from);
        source.CopyTo(to);
    }

    private static (string File, string Checkpoint) Files(string folder)
    {
        string file = Path.Combine(folder, AugmentationBenefit.RealOnlyFile);
        return (file, Path.ChangeExtension(file, ".ckpt"));
    }
}
