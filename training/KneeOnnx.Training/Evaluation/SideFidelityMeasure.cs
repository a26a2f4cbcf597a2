using KneeOnnx.Output;
using KneeOnnx.Training.Classifier;

namespace KneeOnnx.Training.Evaluation;

/// <summary>
/// Scores sides with a classifier made by <c>train-classifier --target side</c>: real images carry their side in the file
/// name (<c>9003175L.png</c>), generated ones the side they were asked for (<c>kl2_L_…png</c>, see <see cref="GenerationPlan"/>).
/// </summary>
public static class SideFidelityMeasure
{
    public static SideFidelity Run(string classifierFile, string generatedFolder, string realFolder, int? generatedLimit, int? realLimit, TextWriter log)
    {
        var (header, net) = ClassifierFile.Load(classifierFile);
        using var _ = net;
        if (header.Target != ClassifierTarget.Side)
            throw new ArgumentException($"{classifierFile}: a {header.Target} classifier; --side-classifier needs one made by train-classifier --target side");
        int size = header.ImageSize;
        int generatedSide = ImageSet.CommonSide(generatedFolder);
        var real = ImageSet.Load(realFolder, size, realLimit, generatedSide < size ? generatedSide : null); // the generated images' road, as for grades
        if (real.FirstFileWithoutSide() is { } sideless)
            throw new ArgumentException($"{sideless}: the file name states no knee side (expected a name ending in L or R); the side check needs real images of known side");
        var generated = ImageSet.Load(generatedFolder, size, generatedLimit);
        int[] predictedReal = ClassifierTrainer.Predict(net, real.Images, size);
        int[] predicted = ClassifierTrainer.Predict(net, generated.Images, size);
        int[] requested = generated.Files.Select(f => GenerationPlan.SideOf(Path.GetFileName(f))).ToArray();

        double realAccuracy = Enumerable.Range(0, real.Count).Average(i => predictedReal[i] == real.Sides[i] ? 1.0 : 0.0);
        var sided = Enumerable.Range(0, generated.Count).Where(i => requested[i] is KneeSides.Left or KneeSides.Right).ToArray();
        var unsided = Enumerable.Range(0, generated.Count).Except(sided).ToArray();
        double? accuracy = sided.Length == 0 ? null : sided.Average(i => predicted[i] == requested[i] ? 1.0 : 0.0);
        double? fractionLeft = unsided.Length == 0 ? null : unsided.Average(i => predicted[i] == KneeSides.Left ? 1.0 : 0.0);
        var result = new SideFidelity
        {
            Classifier = $"{Path.GetFileName(classifierFile)} at {size}² (val accuracy when selected {header.ValAccuracy:F3})",
            RealAccuracy = Math.Round(realAccuracy, 4), Real = real.Count,
            Generated = accuracy is double a ? Math.Round(a, 4) : null, GeneratedWithSide = sided.Length,
            Ratio = accuracy is double r && realAccuracy > 0 ? Math.Round(r / realAccuracy, 4) : null,
            AnySideFractionLeft = fractionLeft is double l ? Math.Round(l, 4) : null, GeneratedWithoutSide = unsided.Length,
        };
        log.WriteLine($"  side classifier {Path.GetFileName(classifierFile)}: real {result.RealAccuracy:F3} ({real.Count}); generated with a side {result.Generated?.ToString("F3") ?? "–"} ({sided.Length})"
            + (unsided.Length > 0 ? $"; without a side {unsided.Length}, {result.AnySideFractionLeft:F3} called left" : ""));
        return result;
    }
}
