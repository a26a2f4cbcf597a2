namespace KneeOnnx.Validation;

/// <summary>
/// The checks every writing verb makes before it creates anything: an output never lands on one of the command's own
/// inputs (compared as real paths, links resolved), never replaces a file of another kind, and a folder output is
/// neither inside an input folder (say, the training images) nor a folder holding an input file the command would
/// write beside or over; and the place it goes must take new files (<see cref="WritableLocation"/>).
/// </summary>
public static class OutputGuard
{
    /// <summary>One input of the command, named by its option for the error line.</summary>
    public readonly record struct Input(string Option, string? Path);

    /// <summary>A file output: refuses when it is a folder, when it resolves to an input, or when it exists holding another kind of file.</summary>
    /// <param name="accepts">kinds the command may replace (what it writes itself); an empty existing file is always replaceable.</param>
    public static void File(string output, string option, IEnumerable<Input> inputs, params FileKind[] accepts)
    {
        if (Directory.Exists(output)) throw new ArgumentException($"{output}: {option} is a folder; give a file name");
        NotAnInput(output, option, inputs);
        if (System.IO.File.Exists(output)) RequireReplaceable(output, option, accepts);
        WritableLocation.RequireFolder(Path.GetDirectoryName(Path.GetFullPath(output)) ?? output, option, output);
    }

    private static void RequireReplaceable(string output, string option, FileKind[] accepts)
    {
        // Outputs are written to a temporary name and renamed over: over a device or a pipe that would replace it.
        var type = FileTypes.Of(output);
        if (type != FileType.Regular)
            throw new ArgumentException($"{output}: {option} exists and is {FileTypes.Describe(type)}; outputs are only ever regular files");
        var kind = FileKinds.Sniff(output);
        if (kind != FileKind.Empty && !accepts.Contains(kind))
            throw new ArgumentException($"{output}: {option} exists and is {FileKinds.Describe(kind)}, not {FileKinds.Describe(accepts[0])}; refusing to overwrite it");
    }

    /// <summary>Refuses an output path that resolves to one of the inputs.</summary>
    public static void NotAnInput(string output, string option, IEnumerable<Input> inputs)
    {
        string real = RealPath.Of(output);
        foreach (var input in inputs)
        {
            if (input.Path is null) continue;
            if (RealPath.Same(real, RealPath.Of(input.Path)))
                throw new ArgumentException($"{output}: {option} is the command's own input {input.Option} {input.Path}; refusing to overwrite it");
        }
    }

    /// <summary>A folder output: refuses an existing file, an input folder it equals or lies in, and an input file inside it.</summary>
    public static void Folder(string output, string option, IEnumerable<Input> inputFiles, IEnumerable<Input> inputFolders)
    {
        if (System.IO.File.Exists(output)) throw new ArgumentException($"{output}: {option} is a file, not a folder");
        string real = RealPath.Of(output);
        foreach (var folder in inputFolders)
        {
            if (folder.Path is null) continue;
            if (RealPath.IsSameOrInside(real, RealPath.Of(folder.Path)))
                throw new ArgumentException($"{output}: {option} is inside the command's input {folder.Option} {folder.Path}; choose a folder outside it");
        }
        foreach (var file in inputFiles)
        {
            if (file.Path is null) continue;
            if (RealPath.IsSameOrInside(RealPath.Of(file.Path), real))
                throw new ArgumentException($"{output}: {option} holds the command's input {file.Option} {file.Path}; choose a folder that does not contain it");
        }
        WritableLocation.RequireFolder(output, option, output);
    }
}
