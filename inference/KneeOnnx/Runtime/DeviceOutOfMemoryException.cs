namespace KneeOnnx.Runtime;

/// <summary>A batch did not fit in memory; the message is the one-line error that names the batch (see <see cref="OutOfMemory.Describe"/>).</summary>
public sealed class DeviceOutOfMemoryException(string message, Exception inner) : Exception(message, inner);
