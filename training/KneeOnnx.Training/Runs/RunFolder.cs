using KneeOnnx.IO;
using KneeOnnx.Training.LibTorch;
using KneeOnnx.Validation;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Runs;

/// <summary>
/// What the U-Net and autoencoder trainers do alike around their run folder: honour or refuse <c>--resume</c>, make the
/// folder ready only after every check has passed (a refused run writes nothing), and refuse a resume on other images.
/// </summary>
internal static class RunFolder
{
    /// <summary>
    /// The checkpoint's state when <c>--resume</c> is asked, null for a new run. Refused before anything is rewritten:
    /// resuming without a checkpoint, starting over one (<paramref name="kind"/> names it in the error), and a
    /// <c>--steps</c> below the steps already done (it would report "finished at 3/2").
    /// </summary>
    public static TState? ResumeOrRefuse<TState>(TrainRunOptions run, string runDir, string checkpointPath, string kind,
                                                 Func<string, TState> readState, Func<TState, long> stepsDone) where TState : class
    {
        if (!run.Resume)
        {
            if (File.Exists(checkpointPath))
                throw new ArgumentException($"{runDir}: already holds {kind}; pass --resume to continue it or choose another --out");
            return null;
        }
        if (!File.Exists(checkpointPath))
            throw new ArgumentException($"{checkpointPath}: nothing to resume (no checkpoint); drop --resume to start a new run");
        var state = readState(checkpointPath);
        if (run.StepsOverride is int total && total < stepsDone(state))
            throw new ArgumentException($"--steps {total} is below the {stepsDone(state)} steps {checkpointPath} has already done; give --steps {stepsDone(state)} or more (or leave it out)");
        return state;
    }

    /// <summary>Creates the folder, clears temporaries a killed write left, and sets and names the device and threads.</summary>
    public static Device Prepare(string runDir, TrainRunOptions run)
    {
        if (File.Exists(runDir)) throw new ArgumentException($"{runDir}: --out is a file, not a folder");
        TorchDevice.ValidateChoice(run.Device);
        ThreadCount.Validate(run.Threads);
        Directory.CreateDirectory(runDir);
        AtomicFile.RemoveStaleTemporaries(runDir);
        TorchDevice.SetThreads(run.Threads);
        var (device, deviceLine) = TorchDevice.Resolve(run.Device);
        run.Output.WriteLine($"{deviceLine}; {get_num_threads()} threads");
        return device;
    }

    /// <summary>Provenance: a resumed run's export would otherwise claim one data set for weights trained on two.</summary>
    public static void RefuseOtherImages(string dataDirectory, string dataSha256, string? resumedSha256)
    {
        if (resumedSha256 is not null && resumedSha256 != dataSha256)
            throw new ArgumentException($"{dataDirectory}: these images differ from those the checkpoint was trained on (sha256 {dataSha256[..12]}… vs {resumedSha256[..12]}…); --resume continues on the same images (start a new run with --init-from its export to train on other data)");
    }
}
