using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KneeOnnx.Imaging;
using KneeOnnx.IO;
using KneeOnnx.Output;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Data;
using KneeOnnx.Training.Evaluation;
using Microsoft.ML.OnnxRuntime;

namespace KneeOnnx.Training.Autoencoder;

/// <summary>What the exported autoencoder keeps of real images it never trained on.</summary>
public sealed record ReconstructionReport
{
    public required string Autoencoder { get; init; }
    public required string DecoderSha256 { get; init; }
    public required int ImageSize { get; init; }
    public required int Images { get; init; }
    /// <summary>Mean over images of 10·log10(255² / MSE), with both images on the 0–255 scale.</summary>
    public required double PsnrDb { get; init; }
    public required double? FidRn18 { get; init; }
    public required double? Floor { get; init; }
    /// <summary>FID ÷ floor: the ceiling any latent model on this decoder starts from (1 = indistinguishable to the measure).</summary>
    public required double? FloorRatio { get; init; }
    public required double Seconds { get; init; }
}

/// <summary>
/// decoder(encoder(val)) through the exported ONNX pair, the way generation will decode: PSNR against the originals,
/// the reconstructions written as a folder the evaluator scores (FID-RN18 against val, with its real-vs-real floor at the
/// autoencoder's size), and a sheet of originals above their reconstructions.
/// </summary>
public static class Reconstruction
{
    public const string ReportFile = "reconstruction.json";
    public const string SheetFile = "reconstruction-sheet.png";

    public static ReconstructionReport Run(AutoencoderFiles autoencoder, string dataRoot, string outDirectory, int? limit, TextWriter log, int threads = 0)
    {
        var timer = Stopwatch.StartNew();
        var val = KneeDataset.Load(dataRoot, "val", autoencoder.ImageSize);
        int side = autoencoder.ImageSize, area = side * side;
        var chosen = Enumerable.Range(0, val.Count).Where(i => limit is null || Rank(val, i) < limit).ToArray();
        string folder = Path.Combine(outDirectory, "reconstructed");
        using var options = new SessionOptions { IntraOpNumThreads = Validation.ThreadCount.Resolve(threads), LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var encoder = new InferenceSession(autoencoder.EncoderPath, options);
        using var decoder = new InferenceSession(autoencoder.DecoderPath, options);
        using var run = new RunOptions();
        double psnrSum = 0;
        var sheetOriginals = new List<float[]>();
        var sheetReconstructions = new List<float[]>();
        foreach (var batch in chosen.Chunk(16))
        {
            var pixels = new float[batch.Length * area];
            for (int i = 0; i < batch.Length; i++) val.Images[batch[i]].CopyTo(pixels, i * area);
            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [batch.Length, 1, side, side]);
            using var latent = encoder.Run(run, [AutoencoderContract.ImageName], [input], [AutoencoderContract.LatentName]);
            using var image = decoder.Run(run, [AutoencoderContract.LatentName], [latent[0]], [AutoencoderContract.ImageName]);
            var decoded = image[0].GetTensorDataAsSpan<float>();
            for (int i = 0; i < batch.Length; i++)
            {
                var original = val.Images[batch[i]];
                var rebuilt = decoded.Slice(i * area, area);
                double mse = 0;
                for (int p = 0; p < area; p++)
                {
                    double d = (PixelScale.ToByte(rebuilt[p]) - PixelScale.ToByte(original[p]));
                    mse += d * d;
                }
                psnrSum += 10 * Math.Log10(255.0 * 255.0 / Math.Max(mse / area, 1e-10));
                string gradeFolder = Path.Combine(folder, val.Grades[batch[i]].ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(gradeFolder);
                GrayPngWriter.Write(Path.Combine(gradeFolder, Path.GetFileName(val.Files[batch[i]])), rebuilt, side);
                if (sheetOriginals.Count < 8 && Rank(val, batch[i]) < 2)
                {
                    sheetOriginals.Add(original);
                    sheetReconstructions.Add(rebuilt.ToArray());
                }
            }
        }
        ContactSheet.Write(Path.Combine(outDirectory, SheetFile), [sheetOriginals, sheetReconstructions], side, side);
        double psnr = psnrSum / chosen.Length;
        log.WriteLine($"reconstructed {chosen.Length} val images at {side}²: mean PSNR {psnr:F2} dB; scoring them against val");

        var evaluation = Evaluator.Run(new EvaluationRequest(folder, Path.Combine(dataRoot, "val"), Path.Combine(dataRoot, "train"), outDirectory, limit,
            FeatureCacheDirectory: FeatureCache.DefaultDirectory(), Threads: threads), log)!; // no GenerateFrom: never stopped
        double? fid = evaluation.FidRn18["all"], floor = evaluation.Floor["all"];
        var report = new ReconstructionReport
        {
            Autoencoder = autoencoder.Folder, DecoderSha256 = autoencoder.DecoderSha256, ImageSize = side, Images = chosen.Length, PsnrDb = Math.Round(psnr, 3),
            FidRn18 = fid, Floor = floor, FloorRatio = fid is double f && floor is double fl && fl > 0 ? Math.Round(f / fl, 3) : null,
            Seconds = Math.Round(timer.Elapsed.TotalSeconds, 1),
        };
        AtomicFile.WriteAllText(Path.Combine(outDirectory, ReportFile), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        log.WriteLine($"reconstruction: PSNR {psnr:F2} dB, FID-RN18 {fid:F1} against a real-vs-real floor of {floor:F1} ({report.FloorRatio}× the floor); "
            + $"{Path.Combine(outDirectory, ReportFile)}, {SheetFile}");
        return report;
    }

    /// <summary>The image's position among the images of its grade (files in name order), so --limit keeps the first N of every grade.</summary>
    private static int Rank(KneeDataset set, int index)
    {
        int rank = 0;
        for (int i = 0; i < index; i++) if (set.Grades[i] == set.Grades[index]) rank++;
        return rank;
    }
}
