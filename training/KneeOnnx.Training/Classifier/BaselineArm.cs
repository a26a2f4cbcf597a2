namespace KneeOnnx.Training.Classifier;

/// <summary>
/// The real-only arm of an earlier verdict, adopted instead of trained again: it depends on the settings, the seed and
/// the real images only, so every further generated set compared against it costs one arm (and CAS) per seed, not two.
/// The earlier run must be finished and must match this one's settings and data; both are checked before anything is
/// copied, and the copy then resumes as a finished run (whose own checks run again).
/// </summary>
public static class BaselineArm
{
    /// <summary>Copies <paramref name="baselineFolder"/>'s finished real-only classifier and checkpoint into <paramref name="outFolder"/> unless it holds one already.</summary>
    public static void Adopt(string baselineFolder, string outFolder, ClassifierConfig config, string dataSha256)
    {
        string file = Path.Combine(baselineFolder, AugmentationBenefit.RealOnlyFile);
        string checkpoint = Path.ChangeExtension(file, ".ckpt");
        string target = Path.Combine(outFolder, AugmentationBenefit.RealOnlyFile);
        string targetCheckpoint = Path.ChangeExtension(target, ".ckpt");
        if (File.Exists(targetCheckpoint)) return;
        foreach (string needed in new[] { file, checkpoint })
            if (!File.Exists(needed))
                throw new ArgumentException($"{needed}: --baseline holds no real-only classifier of seed {config.Seed} (expected the folder of an earlier augment-benefit --out)");
        var state = ClassifierCheckpoint.ReadState(checkpoint);
        if (!ClassifierCheckpoint.SameSettings(state.Config, config))
            throw new ArgumentException($"{checkpoint}: --baseline was trained with other settings ({state.Config}); its real-only arm is not this verdict's");
        if (state.DataSha256 != dataSha256)
            throw new ArgumentException($"{checkpoint}: --baseline was trained on other train or val images than --data's");
        if (state.EpochsDone < config.Epochs)
            throw new ArgumentException($"{checkpoint}: --baseline's real-only run stopped after {state.EpochsDone} of {config.Epochs} epochs; finish it first (run its own command again)");
        Directory.CreateDirectory(outFolder);
        foreach (var (from, to) in new[] { (file, target), (checkpoint, targetCheckpoint) })
        {
            string temporary = to + ".copying";
            File.Copy(from, temporary, overwrite: true);
            File.Move(temporary, to, overwrite: true);
        }
    }
}
