using System.Buffers.Binary;
using System.Security.Cryptography;

namespace KneeOnnx.Training.Runs;

/// <summary>
/// The last 48 bytes of a checkpoint: "KNEESUM1", the payload's length (int64, little-endian) and the SHA-256 of the
/// payload (everything before the footer). A file cut anywhere loses or misplaces the footer; a flipped byte changes the hash.
/// </summary>
public static class CheckpointFooter
{
    private static readonly byte[] Magic = "KNEESUM1"u8.ToArray();
    public const int Size = 8 + 8 + 32;

    public static void Write(Stream file, long payloadLength, byte[] sha256)
    {
        var footer = new byte[Size];
        Magic.CopyTo(footer, 0);
        BinaryPrimitives.WriteInt64LittleEndian(footer.AsSpan(8), payloadLength);
        sha256.CopyTo(footer, 16);
        file.Write(footer);
    }

    /// <summary>
    /// Opens a checkpoint that must carry a footer (every format but the U-Net's first) for reading from its start, once
    /// the footer checks out; <paramref name="noun"/> names the kind in errors ("autoencoder checkpoint").
    /// </summary>
    public static BinaryReader OpenVerified(string path, string noun)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: {noun} not found", path);
        KneeOnnx.Validation.FileTypes.RequireRegularInput(path, "the " + noun);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            if (!Verify(stream, path))
                throw new InvalidDataException($"{path}: truncated or corrupt {noun} (its checksum footer is missing)");
            stream.Position = 0;
            return new BinaryReader(stream, System.Text.Encoding.UTF8);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <returns>true when the file ends in a footer that matches its payload; false when it has no footer at all.</returns>
    /// <exception cref="InvalidDataException">a footer whose length or hash does not match: the file was cut or damaged.</exception>
    public static bool Verify(FileStream file, string path)
    {
        long length = file.Length;
        if (length < Size) return false;
        var footer = new byte[Size];
        file.Position = length - Size;
        file.ReadExactly(footer);
        if (!footer.AsSpan(0, 8).SequenceEqual(Magic)) return false;
        long payload = BinaryPrimitives.ReadInt64LittleEndian(footer.AsSpan(8));
        if (payload != length - Size)
            throw new InvalidDataException($"{path}: truncated or corrupt checkpoint (its footer records {payload} bytes, the file holds {length - Size})");
        file.Position = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long left = payload; left > 0;)
        {
            int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) throw new InvalidDataException($"{path}: truncated checkpoint (ended while being checked)");
            hash.AppendData(buffer, 0, n);
            left -= n;
        }
        if (!hash.GetHashAndReset().AsSpan().SequenceEqual(footer.AsSpan(16)))
            throw new InvalidDataException($"{path}: corrupt checkpoint (SHA-256 of its contents does not match the one it was written with)");
        return true;
    }
}
