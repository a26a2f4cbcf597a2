namespace KneeOnnx.Training.Export;

/// <summary>The exported graph does not compute what the TorchSharp model computes; nothing was written.</summary>
public sealed class ExportCheckFailedException(string message) : Exception(message);
