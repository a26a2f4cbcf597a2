using System.Diagnostics;
using KneeOnnx.Runtime;

namespace KneeOnnx.Training.Runs;

/// <summary>
/// The optimiser-step loop every trainer shares: when a run stops (done, --stop-at-step, cancelled, --max-minutes), a
/// step's failure turned into a one-line error that keeps the last whole checkpoint, the images/s window, the loss log,
/// the progress line, the periodic and final checkpoints, and the closing summary. The trainer supplies what differs:
/// the learning rate, the step itself, what follows it (an EMA update, a log line) and how a checkpoint is written.
/// </summary>
internal sealed class StepLoop
{
    public required string RunDirectory { get; init; }
    public required string CheckpointPath { get; init; }
    public required long TotalSteps { get; init; }
    public required int BatchSize { get; init; }
    public required int CheckpointEvery { get; init; }
    public required TrainRunOptions Options { get; init; }
    public required LossLog LossLog { get; init; }
    public required ProgressLine Progress { get; init; }
    /// <summary>What the divergence message advises, e.g. "lower --lr".</summary>
    public required string DivergedAdvice { get; init; }
    /// <summary>What one batch item is, for the closing rate: "img/s", "crops/s".</summary>
    public required string RateUnit { get; init; }
    /// <summary>What the logged loss is, for the closing summary.</summary>
    public required string LossName { get; init; }
    /// <summary>
    /// What the out-of-memory message advises instead of halving --batch (null = halve it), e.g. the diffusion trainer's
    /// --micro-batch, which keeps the recipe; given whether a checkpoint exists to --resume from.
    /// </summary>
    public Func<bool, string?>? OutOfMemoryRemedy { get; init; }
    /// <summary>Training seconds before this process (a resumed run's), so checkpoints record the whole run's time.</summary>
    public double PreviousElapsedSeconds { get; init; }

    private readonly Stopwatch wall = new();

    /// <summary>The whole run's training seconds so far, for the checkpoint being written.</summary>
    public double ElapsedSeconds => PreviousElapsedSeconds + wall.Elapsed.TotalSeconds;

    /// <param name="step">Steps already done (a resumed run's).</param>
    /// <param name="setLearningRate">Sets the optimisers' rate for step index s and returns it.</param>
    /// <param name="trainStep">Runs step index s; calls the check with the loss before applying the update; returns the loss to log.</param>
    /// <param name="afterUpdate">After step index s was applied (an EMA update).</param>
    /// <param name="afterReport">After the progress line of a run that has now done s steps (extra log lines).</param>
    /// <param name="save">Writes the checkpoint of a run that has done s steps (the loss log is flushed first).</param>
    public TrainResult Run(long step, Func<long, double> setLearningRate, Func<long, Action<float>, double> trainStep,
                           Action<long>? afterUpdate, Action<long>? afterReport, Action<long> save)
    {
        wall.Restart();
        long startStep = step, lastSaved = step, windowStep = step;
        // A resumed run starts from its checkpoint; a new one has none until its first save.
        bool saved = step > 0;
        string Kept(string which) => saved ? $"the last {which}checkpoint (step {lastSaved}) is kept in {RunDirectory}" : $"no checkpoint was written yet in {RunDirectory}";
        double windowStart = 0, rate = 0, smoothed = double.NaN;
        bool completed = false;
        // Where the CPU goes, once early (the fast first minutes) and then every few minutes: see ProcessHealth.
        var health = new ProcessHealth();
        var nextHealth = TimeSpan.FromMinutes(1);
        void Save()
        {
            LossLog.Flush();
            save(step);
            lastSaved = step;
            saved = true;
        }

        while (true)
        {
            if (step >= TotalSteps) { completed = true; break; }
            if (step >= Options.StopAtStep || Options.Cancellation.IsCancellationRequested) break;
            if (Options.MaxMinutes is double max && (DateTime.UtcNow - Options.StartedUtc).TotalMinutes >= max) break;

            double lr = setLearningRate(step);
            double loss;
            try
            {
                loss = trainStep(step, value =>
                {
                    if (float.IsFinite(value)) return;
                    LossLog.Flush();
                    throw new TrainingDivergedException(
                        $"loss became {value} at step {step + 1}; stopped without applying it; {Kept("good ")}; {DivergedAdvice}");
                });
            }
            catch (Exception e) when (e is not TrainingDivergedException && OutOfMemory.Is(e))
            {
                // Nothing of this step is saved: the checkpoint on disk is the last whole one (written by rename only).
                LossLog.Flush();
                throw new DeviceOutOfMemoryException(
                    $"{OutOfMemory.Describe(e, BatchSize, "--batch", OutOfMemoryRemedy?.Invoke(saved))}; {Kept("")}", e);
            }
            afterUpdate?.Invoke(step);
            step++;

            double now = wall.Elapsed.TotalSeconds;
            if (now - windowStart >= 5 || step - windowStep >= 200 || rate == 0)
            {
                if (step > windowStep && now > windowStart) rate = (step - windowStep) * BatchSize / (now - windowStart);
                windowStart = now;
                windowStep = step;
            }
            smoothed = double.IsNaN(smoothed) ? loss : 0.98 * smoothed + 0.02 * loss;
            LossLog.Append(new LossLog.Row(step, loss, lr, rate, PreviousElapsedSeconds + now));
            var eta = rate > 0 ? TimeSpan.FromSeconds((TotalSteps - step) * BatchSize / rate) : TimeSpan.Zero;
            Progress.Report(step, TotalSteps, smoothed, lr, rate, eta);
            afterReport?.Invoke(step);
            if (wall.Elapsed >= nextHealth)
            {
                Progress.Message(health.Line());
                nextHealth = wall.Elapsed + TimeSpan.FromMinutes(5);
            }
            if (step % CheckpointEvery == 0 || step == TotalSteps) Save();
        }
        if (lastSaved != step || !File.Exists(CheckpointPath)) Save();

        var rows = LossLog.Rows;
        double first = rows.Take(50).Select(r => r.Loss).DefaultIfEmpty(double.NaN).Average();
        double last = rows.Skip(Math.Max(0, rows.Count - 50)).Select(r => r.Loss).DefaultIfEmpty(double.NaN).Average();
        double runRate = step > startStep ? (step - startStep) * BatchSize / wall.Elapsed.TotalSeconds : 0;
        Progress.Message($"{(completed ? "finished" : "stopped")} at step {step}/{TotalSteps} after {ProgressLine.Format(wall.Elapsed)} ({runRate:F1} {RateUnit}); "
            + $"{LossName} of first 50 steps {first:F4}, last 50 {last:F4}; checkpoint {CheckpointPath}");
        return new TrainResult(step, completed, first, last, runRate, CheckpointPath);
    }
}
