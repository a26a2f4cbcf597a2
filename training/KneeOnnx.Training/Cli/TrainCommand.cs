using System.Runtime.InteropServices;
using KneeOnnx.Training.Training;

namespace KneeOnnx.Training.Cli;

internal static class TrainCommand
{
    public const int InterruptedExitCode = 130;

    public static int Run(TrainOptions o, TextWriter output)
    {
        var config = o.ToConfig();
        if (!o.Resume && string.IsNullOrEmpty(config.Data))
            throw new ArgumentException("--data is required (the dataset root holding train/<grade>/*.png)");
        if (o.InitFrom is not null && o.Resume)
            throw new ArgumentException("--init-from starts a new run; --resume continues one: give one of them");
        if (o.InitFrom is not null && o.ArchitectureOptionsGiven().FirstOrDefault() is { } conflicting)
            throw new ArgumentException($"{conflicting} cannot be combined with --init-from {o.InitFrom}: the architecture and schedule come from that file");
        if (o.MaxMinutes is <= 0) throw new ArgumentException($"--max-minutes must be positive, got {o.MaxMinutes}");

        // SIGINT/SIGTERM (Ctrl+C, Slurm pre-emption) finish the current step and write a checkpoint; a second signal kills.
        using var stop = new CancellationTokenSource();
        int signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.Increment(ref signals) > 1) return;
            context.Cancel = true;
            output.WriteLine($"\n{context.Signal}: stopping after this step and writing a checkpoint (send again to kill)");
            stop.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        var result = Trainer.Run(config, new TrainRunOptions
        {
            RunDirectory = o.Out,
            Resume = o.Resume,
            Device = o.Device,
            Threads = o.Threads,
            Output = output,
            Interactive = !Console.IsOutputRedirected,
            LogEvery = o.LogEvery,
            MaxMinutes = o.MaxMinutes,
            StepsOverride = o.Resume ? o.Steps : null,
            Cancellation = stop.Token,
        });
        return stop.IsCancellationRequested && !result.Completed ? InterruptedExitCode : 0;
    }
}
