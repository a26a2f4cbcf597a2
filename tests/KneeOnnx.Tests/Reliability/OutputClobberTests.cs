using KneeOnnx.Tests.Fixtures;

namespace KneeOnnx.Tests.Reliability;

/// <summary>
/// No verb writes over one of its own inputs (compared as real paths, links resolved) or over an existing file of
/// another kind, and none writes into the images it reads. The guard runs before any input is read, so the inputs
/// here are small stand-ins with recognisable bytes; each refusal must leave every byte and every name as it was.
/// </summary>
public class OutputClobberTests
{
    private static readonly byte[] CheckpointBytes = [.. "KNEECKPT"u8, 1, 2, 3, 4];
    private static readonly byte[] PngBytes = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 9, 9];
    private static readonly byte[] OnnxBytes = [0x08, 0x07, 5, 5, 5];

    /// <summary>A scratch folder: stand-in files are written, then the command runs with {0} replaced by the folder.</summary>
    private sealed record Case(string Cli, string[] Args, string Expected, Action<TempDirectory> Setup);

    private static void Write(TempDirectory dir, string relative, byte[] bytes)
    {
        string path = dir.Combine(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    private static void Images(TempDirectory dir, string relative) => Write(dir, Path.Combine(relative, "0", "a.png"), PngBytes);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["export --out is the run's checkpoint"] = new("train", ["export", "--checkpoint", "{0}/run", "--out", "{0}/run/checkpoint.ckpt"],
            "is the command's own input --checkpoint", d => Write(d, "run/checkpoint.ckpt", CheckpointBytes)),
        ["export --out reaches the checkpoint through a link"] = new("train", ["export", "--checkpoint", "{0}/run", "--out", "{0}/link/./checkpoint.ckpt"],
            "is the command's own input --checkpoint", d =>
            {
                Write(d, "run/checkpoint.ckpt", CheckpointBytes);
                Directory.CreateSymbolicLink(d.Combine("link"), d.Combine("run"));
            }),
        ["export --out is an existing PNG"] = new("train", ["export", "--checkpoint", "{0}/c.ckpt", "--out", "{0}/p.png"],
            "exists and is a PNG image, not an ONNX model", d => { Write(d, "c.ckpt", CheckpointBytes); Write(d, "p.png", PngBytes); }),
        ["export --out ends in .md, its own card's name"] = new("train", ["export", "--checkpoint", "{0}/c.ckpt", "--out", "{0}/m.md"],
            "ends in .md", d => Write(d, "c.ckpt", CheckpointBytes)),
        ["export's model card would replace the checkpoint"] = new("train", ["export", "--checkpoint", "{0}/m.md", "--out", "{0}/m.onnx"],
            "--out's model card is the command's own input --checkpoint", d => Write(d, "m.md", CheckpointBytes)),
        ["sample --out is the run folder"] = new("train", ["sample", "--checkpoint", "{0}/run", "--out", "{0}/run"],
            "holds the command's input --checkpoint", d => Write(d, "run/checkpoint.ckpt", CheckpointBytes)),
        ["train would write its config.json over --config"] = new("train", ["train", "--data", "{0}/data", "--config", "{0}/run/config.json", "--out", "{0}/run"],
            "is the command's own input --config", d => Write(d, "run/config.json", "{\"Steps\": 3}"u8.ToArray())),
        ["train --out inside the training images"] = new("train", ["train", "--data", "{0}/data", "--preset", "tiny", "--out", "{0}/data/train/0/run"],
            "is inside the command's input --data", d => Images(d, "data/train")),
        ["evaluate --out inside --real"] = new("train", ["evaluate", "--generated", "{0}/gen", "--real", "{0}/real", "--train", "{0}/train", "--out", "{0}/real/report"],
            "is inside the command's input --real", d => { Images(d, "gen"); Images(d, "real"); Images(d, "train"); }),
        ["evaluate --out holds --model"] = new("train", ["evaluate", "--model", "{0}/o/m.onnx", "--data", "{0}/data", "--out", "{0}/o"],
            "holds the command's input --model", d => { Write(d, "o/m.onnx", OnnxBytes); Images(d, "data/val"); Images(d, "data/train"); }),
        ["train-classifier --out is a checkpoint"] = new("train", ["train-classifier", "--data", "{0}/data", "--out", "{0}/c.kcls"],
            "exists and is a KneeOnnx checkpoint, not a KneeOnnx classifier", d => Write(d, "c.kcls", CheckpointBytes)),
        ["augment-benefit --out inside --generated"] = new("train", ["augment-benefit", "--data", "{0}/data", "--generated", "{0}/gen", "--out", "{0}/gen/report"],
            "is inside the command's input --generated", d => Images(d, "gen")),
        ["augment-benefit --out is the training images"] = new("train", ["augment-benefit", "--data", "{0}/data", "--generated", "{0}/gen", "--out", "{0}/data/train"],
            "is inside the command's input --data", d => { Images(d, "gen"); Images(d, "data/train"); }),
        ["bench --out holds --model"] = new("train", ["bench", "--model", "{0}/o/m.onnx", "--out", "{0}/o"],
            "holds the command's input --model", d => Write(d, "o/m.onnx", OnnxBytes)),
        ["card for a model named .md would replace the model"] = new("train", ["card", "--model", "{0}/m.md"],
            "is the command's own input --model", d => Write(d, "m.md", OnnxBytes)),
        ["card would replace its --notes"] = new("train", ["card", "--model", "{0}/m.onnx", "--notes", "{0}/m.md"],
            "is the command's own input --notes", d => { Write(d, "m.onnx", OnnxBytes); Write(d, "m.md", "my notes"u8.ToArray()); }),
        ["card would replace a PNG"] = new("train", ["card", "--model", "{0}/m.onnx"],
            "exists and is a PNG image, not a text file", d => { Write(d, "m.onnx", OnnxBytes); Write(d, "m.md", PngBytes); }),
        ["generate --out holds --model"] = new("gen", ["generate", "--model", "{0}/o/m.onnx", "--provider", "cpu", "--out", "{0}/o"],
            "holds the command's input --model", d => Write(d, "o/m.onnx", OnnxBytes)),
        ["generate --sheet is the model"] = new("gen", ["generate", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/o", "--sheet", "{0}/m.onnx"],
            "is the command's own input --model", d => Write(d, "m.onnx", OnnxBytes)),
        ["generate --sheet is an existing JSON file"] = new("gen", ["generate", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/o", "--sheet", "{0}/s.png"],
            "exists and is a JSON file, not a PNG image", d => { Write(d, "m.onnx", OnnxBytes); Write(d, "s.png", "{}"u8.ToArray()); }),
        ["generate --out is a file"] = new("gen", ["generate", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/o"],
            "--out is a file, not a folder", d => { Write(d, "m.onnx", OnnxBytes); Write(d, "o", PngBytes); }),
        ["grid --out is the model"] = new("gen", ["grid", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/m.onnx"],
            "is the command's own input --model", d => Write(d, "m.onnx", OnnxBytes)),
        ["grid --out is a checkpoint"] = new("gen", ["grid", "--model", "{0}/m.onnx", "--provider", "cpu", "--out", "{0}/g.png"],
            "exists and is a KneeOnnx checkpoint, not a PNG image", d => { Write(d, "m.onnx", OnnxBytes); Write(d, "g.png", CheckpointBytes); }),
    };

    public static TheoryData<string> Names() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void OutputsNeverLandOnInputsOrOtherKindsOfFile(string name)
    {
        using var dir = new TempDirectory();
        var c = Cases[name];
        c.Setup(dir);
        Refusal.CheckRefusedLeavingTreeUnchanged(dir.Path, c.Cli, c.Args, c.Expected);
    }
}
