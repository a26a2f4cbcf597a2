using KneeOnnx.Runtime;
using KneeOnnx.Training.Model;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Export;

/// <summary>
/// Runs the exported bytes in ONNX Runtime (CPU) and the TorchSharp model on the same random inputs, over several batch
/// sizes, timesteps (0, T/2, T-1), grades (the null grade too) and sides (the null side too), and reports the largest
/// absolute difference.
/// </summary>
public static class ExportSelfCheck
{
    public const double DefaultTolerance = 1e-4;

    public sealed record Result(double MaxAbsDiff, int Cases);

    public static Result Run(byte[] onnx, UNet model, int trainTimesteps, long seed = 0)
    {
        var config = model.Config;
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = Math.Max(1, Environment.ProcessorCount) };
        using var session = new InferenceSession(onnx, options);
        model.eval();
        var device = model.parameters().First().device;
        double worst = 0;
        int cases = 0;
        int gradeChoices = config.GradeTableSize;
        using var generator = new Generator((ulong)seed);
        foreach (int batch in new[] { 1, 3 })
            foreach (int t in new[] { 0, trainTimesteps / 2, trainTimesteps - 1 })
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var sample = randn([batch, config.Channels, config.ImageSize, config.ImageSize], generator: generator);
                long[] timesteps = Enumerable.Repeat((long)t, batch).ToArray();
                long[] grades = Enumerable.Range(0, batch).Select(i => (long)((cases + i) % gradeChoices)).ToArray();
                long[] sides = Enumerable.Range(0, batch).Select(i => (long)((cases + 2 * i) % (KneeSides.Count + 1))).ToArray();
                var expected = model.forward(sample.to(device), tensor(timesteps).to(device), tensor(grades).to(device),
                    config.SideConditioned ? tensor(sides).to(device) : null).cpu();

                float[] samplePixels = sample.data<float>().ToArray();
                using var sampleValue = OrtValue.CreateTensorValueFromMemory(samplePixels, sample.shape);
                using var timestepValue = OrtValue.CreateTensorValueFromMemory(timesteps, [batch]);
                using var gradeValue = OrtValue.CreateTensorValueFromMemory(grades, [batch]);
                using var sideValue = OrtValue.CreateTensorValueFromMemory(sides, [batch]);
                var names = new List<string> { ModelContract.SampleInput, ModelContract.TimestepInput };
                var values = new List<OrtValue> { sampleValue, timestepValue };
                if (config.IsConditional)
                {
                    names.Add(ModelContract.GradeInput);
                    values.Add(gradeValue);
                }
                if (config.SideConditioned)
                {
                    names.Add(ModelContract.SideInput);
                    values.Add(sideValue);
                }
                using var runOptions = new RunOptions();
                using var outputs = session.Run(runOptions, names, values, [ModelContract.NoiseOutput]);
                var actual = outputs[0].GetTensorDataAsSpan<float>();
                var reference = expected.data<float>();
                if (actual.Length != reference.Count)
                    throw new InvalidOperationException($"ONNX output has {actual.Length} values, TorchSharp {reference.Count}");
                for (int i = 0; i < actual.Length; i++)
                {
                    double diff = Math.Abs(actual[i] - reference[i]);
                    if (!(diff <= worst)) worst = double.IsNaN(diff) ? double.PositiveInfinity : diff;
                }
                cases++;
            }
        return new Result(worst, cases);
    }
}
