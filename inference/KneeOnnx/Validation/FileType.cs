using System.Runtime.InteropServices;

namespace KneeOnnx.Validation;

/// <summary>What a path is on disk, beyond "file or folder": .NET reports a device, FIFO or socket as an ordinary file.</summary>
public enum FileType
{
    Missing,
    Regular,
    Directory,
    /// <summary>A character or block device (e.g. /dev/null): writing there by rename would replace the device.</summary>
    Device,
    /// <summary>A named pipe: opening it blocks until another process opens the other end.</summary>
    Fifo,
    Socket,
    Unknown,
}

public static class FileTypes
{
    /// <summary>The type of <paramref name="path"/> (links followed); on systems where it cannot be asked, Regular for any existing file.</summary>
    public static FileType Of(string path)
    {
        if (Directory.Exists(path)) return FileType.Directory;
        if (!File.Exists(path)) return FileType.Missing;
        return OperatingSystem.IsLinux() ? Posix.Of(path) : FileType.Regular;
    }

    public static string Describe(FileType type) => type switch
    {
        FileType.Device => "a device",
        FileType.Fifo => "a named pipe",
        FileType.Socket => "a socket",
        FileType.Directory => "a folder",
        FileType.Unknown => "not a regular file",
        _ => "a file",
    };

    /// <summary>Refuses an input that is not a regular file (a FIFO would hang the read, a device would be read forever).</summary>
    public static void RequireRegularInput(string? path, string option)
    {
        if (path is null) return;
        var type = Of(path);
        if (type is FileType.Device or FileType.Fifo or FileType.Socket or FileType.Unknown)
            throw new ArgumentException($"{path}: {option} is {Describe(type)}, not a regular file");
    }

    /// <summary>stat(2) through glibc; st_mode's offset in struct stat is the architecture's (x86-64: 24, AArch64: 16).</summary>
    private static class Posix
    {
        private const int S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFBLK = 0x6000, S_IFIFO = 0x1000, S_IFSOCK = 0xC000;

        [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
        private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);

        public static FileType Of(string path)
        {
            int offset = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => 24,
                Architecture.Arm64 => 16,
                _ => -1,
            };
            if (offset < 0) return FileType.Regular;
            var buffer = new byte[256];
            try
            {
                if (Stat(path, buffer) != 0) return File.Exists(path) ? FileType.Unknown : FileType.Missing;
            }
            catch (EntryPointNotFoundException)
            {
                return FileType.Regular; // a libc older than 2.33 exports no stat symbol; keep .NET's view
            }
            int mode = BitConverter.ToInt32(buffer, offset) & S_IFMT;
            return mode switch
            {
                S_IFREG => FileType.Regular,
                S_IFDIR => FileType.Directory,
                S_IFCHR or S_IFBLK => FileType.Device,
                S_IFIFO => FileType.Fifo,
                S_IFSOCK => FileType.Socket,
                _ => FileType.Unknown,
            };
        }
    }
}
