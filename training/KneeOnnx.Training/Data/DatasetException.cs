namespace KneeOnnx.Training.Data;

/// <summary>A dataset folder that cannot be used as given; the message names the folder or file.</summary>
public sealed class DatasetException(string message, Exception? inner = null) : Exception(message, inner);
