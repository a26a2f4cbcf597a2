using System.Runtime.InteropServices;

namespace KneeOnnx.Training.Cli;

/// <summary>
/// SIGINT/SIGTERM (Ctrl+C, a session's end, Slurm pre-emption) ask a training verb to finish its step and write a
/// checkpoint; a second signal kills.
/// </summary>
public sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;
    private int _signals;

    public StopSignals(TextWriter output)
    {
        void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.Increment(ref _signals) > 1) return;
            context.Cancel = true;
            output.WriteLine($"\n{context.Signal}: stopping after this step and writing a checkpoint (send again to kill)");
            _stop.Cancel();
        }
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _stop.Token;
    public bool Requested => _stop.IsCancellationRequested;

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _stop.Dispose();
    }
}
