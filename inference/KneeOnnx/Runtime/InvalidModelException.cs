namespace KneeOnnx.Runtime;

/// <summary>A model file that cannot be used; the message names the file and what is wrong.</summary>
public sealed class InvalidModelException(string message, Exception? inner = null) : Exception(message, inner);
