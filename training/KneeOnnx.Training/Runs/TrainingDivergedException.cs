namespace KneeOnnx.Training.Runs;

/// <summary>The loss became NaN or infinite; the run stopped before applying that step.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
