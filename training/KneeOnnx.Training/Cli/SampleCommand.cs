using System.Diagnostics;
using KneeOnnx.Imaging;
using KneeOnnx.Training.Diffusion;
using KneeOnnx.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Cli;

internal static class SampleCommand
{
    public static int Run(SampleOptions o, TextWriter output)
    {
        if (o.Count <= 0) throw new ArgumentException($"--count must be at least 1, got {o.Count}");
        if (o.Batch <= 0) throw new ArgumentException($"--batch must be at least 1, got {o.Batch}");
        int[] grades = GradeList.Parse(o.Grade);
        if (File.Exists(o.Out)) throw new ArgumentException($"{o.Out}: --out is a file, not a folder");

        TorchDevice.SetThreads(o.Threads);
        var (device, line) = TorchDevice.Resolve(o.Device);
        output.WriteLine(line);
        string path = Training.Checkpoint.Locate(o.Checkpoint);
        var (state, model) = Training.Checkpoint.LoadModel(path, o.Raw);
        using var _ = model;
        model.to(device);
        var cfg = state.Model;
        if (!cfg.IsConditional && grades.Any(g => g != grades[0]))
            output.WriteLine("note: this model is unconditional; --grade only names the output folders");
        var sampler = new TorchDdpmSampler(model, state.Train.CreateSchedule(), device);
        output.WriteLine($"sampling {o.Count} per grade with DDPM-{state.Train.TrainTimesteps} from {path} ({cfg.Preset}, step {state.Step}, {(o.Raw ? "raw" : "EMA")} weights)");

        var timer = Stopwatch.StartNew();
        int written = 0;
        foreach (int grade in grades)
        {
            string dir = Path.Combine(o.Out, grade.ToString());
            Directory.CreateDirectory(dir);
            for (int start = 0; start < o.Count; start += o.Batch)
            {
                var indexes = Enumerable.Range(start, Math.Min(o.Batch, o.Count - start)).Select(i => (long)i).ToArray();
                using var images = SampleBatch(sampler, grade, o.Seed, indexes, o.Batch);
                float[] pixels = images.data<float>().ToArray();
                int area = cfg.ImageSize * cfg.ImageSize;
                for (int i = 0; i < indexes.Length; i++)
                {
                    GrayPngWriter.Write(Path.Combine(dir, $"ddpm_s{o.Seed}_{indexes[i]:D5}.png"), pixels.AsSpan(i * area, area), cfg.ImageSize);
                    written++;
                }
                output.WriteLine($"grade {grade}: {start + indexes.Length}/{o.Count} ({written / timer.Elapsed.TotalSeconds:F2} img/s)");
            }
        }
        output.WriteLine($"wrote {written} images to {o.Out} in {timer.Elapsed.TotalSeconds:F1}s");
        return 0;
    }

    // Images already written stay; the error names the batch that did not fit.
    private static Tensor SampleBatch(TorchDdpmSampler sampler, int grade, long seed, long[] indexes, int batch)
    {
        try
        {
            return sampler.Sample(grade, seed, indexes);
        }
        catch (Exception e) when (KneeOnnx.Runtime.OutOfMemory.Is(e))
        {
            throw new KneeOnnx.Runtime.DeviceOutOfMemoryException(KneeOnnx.Runtime.OutOfMemory.Describe(e, batch, "--batch"), e);
        }
    }
}

/// <summary>Parses "0,2,4" into grades, each checked to be a KL grade.</summary>
internal static class GradeList
{
    public static int[] Parse(string text)
    {
        var grades = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, out int g) || g < 0 || g >= KlGrades.Count)
                throw new ArgumentException($"--grade '{part}' is not a KL grade 0..{KlGrades.Count - 1}");
            if (!grades.Contains(g)) grades.Add(g);
        }
        return grades.ToArray();
    }
}
