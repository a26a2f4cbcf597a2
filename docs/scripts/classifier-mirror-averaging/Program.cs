// Turns on mirror averaging (train-classifier --mirror-averaging) in a grade classifier trained before the option
// existed, keeping its weights and kept epoch: re-scores it on DIR/val reading each image and its mirror, rewrites the
// file's header with those figures (atomically) and its card. The card needs the settings the file was trained with,
// which old files do not record, so they are given here as the train-classifier command's own options.
// From the repository root, after `dotnet build training/KneeOnnx.Training -c Release`:
//   dotnet build docs/scripts/classifier-mirror-averaging -c Release
//   B=training/KneeOnnx.Training/bin/Release/net10.0; cp docs/scripts/classifier-mirror-averaging/bin/Release/net10.0/classifier-mirror-averaging.dll $B/
//   dotnet exec --runtimeconfig $B/kneeonnx-train.runtimeconfig.json --depsfile $B/kneeonnx-train.deps.json $B/classifier-mirror-averaging.dll \
//     models/kl-resnet18-224.kcls ../shared/data/kneeKL224 "--epochs 8 --batch 32 --lr 0.0003 --seed 1"
using System.Globalization;
using KneeOnnx.Training.Classifier;
using KneeOnnx;
using KneeOnnx.Training.Data;

if (args.Length != 3) { Console.Error.WriteLine("usage: classifier-mirror-averaging FILE.kcls DATA_ROOT \"--epochs E --batch B --lr LR --seed S\""); return 2; }
string file = args[0], data = args[1];
var trained = args[2].Split(' ', StringSplitOptions.RemoveEmptyEntries).Chunk(2).ToDictionary(p => p[0], p => p[1]);
var (header, net) = ClassifierFile.Load(file);
using (net)
{
    if (header.Target != ClassifierTarget.Grade) { Console.Error.WriteLine($"{file}: a {header.Target} classifier; mirror averaging is for grade classifiers"); return 1; }
    var val = KneeDataset.Load(data, "val", header.ImageSize);
    var single = ClassificationMetrics.Of(val.Grades, ClassifierTrainer.Predict(net, val.Images, header.ImageSize));
    var metrics = ClassificationMetrics.Of(val.Grades, ClassifierTrainer.Predict(net, val.Images, header.ImageSize, mirrorAveraging: true));
    Console.WriteLine($"{file}: val accuracy {single.Accuracy:F3} → {metrics.Accuracy:F3}, κ {single.QuadraticKappa:F3} → {metrics.QuadraticKappa:F3}, macro-F1 {single.MacroF1:F3} → {metrics.MacroF1:F3}");
    int classes = KlGrades.Count;
    var updated = header with
    {
        MirrorAveraging = true, ValAccuracy = metrics.Accuracy, ValQuadraticKappa = metrics.QuadraticKappa, ValMeanAbsoluteError = metrics.MeanAbsoluteError,
        ValRecall = metrics.Recall, ValMacroF1 = metrics.MacroF1,
        ValConfusion = Enumerable.Range(0, classes).Select(t => Enumerable.Range(0, classes).Select(p => metrics.Confusion[t, p]).ToArray()).ToArray(),
    };
    ClassifierFile.Save(file, updated, net);
    var defaults = ClassifierConfig.ForBackbone(header.Backbone);
    var config = defaults with
    {
        ImageSize = header.ImageSize, Epochs = int.Parse(trained["--epochs"], CultureInfo.InvariantCulture), BatchSize = int.Parse(trained["--batch"], CultureInfo.InvariantCulture),
        LearningRate = double.Parse(trained["--lr"], CultureInfo.InvariantCulture), Seed = long.Parse(trained["--seed"], CultureInfo.InvariantCulture), Weights = header.Weights,
        MirrorAveraging = true,
    };
    string command = $"kneeonnx-train train-classifier --data {data} --out {file} --backbone {header.Backbone} --target grade --size {header.ImageSize} {args[2]} --weights {header.Weights}";
    string history = $"the epoch was kept, and the file first scored, reading each image once (val accuracy {single.Accuracy:F3}, κ {single.QuadraticKappa:F3}, macro-F1 {single.MacroF1:F3}); "
        + "mirror averaging was then switched on and val re-scored, weights unchanged (`docs/scripts/classifier-mirror-averaging`)";
    ClassifierCard.Write(file, updated, config, command, history);
    Console.WriteLine($"rewrote {file} and {ClassifierCard.PathFor(file)}");
}
return 0;
