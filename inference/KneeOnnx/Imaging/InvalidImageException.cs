namespace KneeOnnx.Imaging;

/// <summary>An input image that cannot be used; the message names the file.</summary>
public sealed class InvalidImageException(string path, string reason, Exception? inner = null)
    : Exception($"{path}: {reason}", inner)
{
    public string ImagePath { get; } = path;
}
