using KneeOnnx.Training.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Runs;

/// <summary>
/// The AdamW optimiser of a run, with the side embedding in a group of its own that learns at a multiple of the base
/// rate. Adam moves each weight by about the learning rate per step whatever the gradient's size, so a side embedding
/// added to a trained model with its projection at zero would need thousands of steps at the fine-tuning rate to grow
/// to the size of the grade's; at 1e-4 it was still ignored after 450 steps (side fidelity 0.50, chance). Grade-only
/// networks keep one group, so their runs are unchanged.
/// </summary>
public static class OptimizerGroups
{
    /// <returns>the optimiser and, per parameter group in order, the factor its learning rate carries over the schedule's.</returns>
    public static (optim.Optimizer Optimizer, double[] RateFactors) Create(UNet model, TrainConfig config)
    {
        var side = model.named_parameters().Where(p => p.name.StartsWith(Export.OnnxWeightImporter.SideEmbeddingPrefix, StringComparison.Ordinal))
            .Select(p => p.parameter).ToArray();
        if (side.Length == 0)
            return (optim.AdamW(model.parameters(), lr: config.LearningRate, weight_decay: config.WeightDecay), [1.0]);
        var rest = model.named_parameters().Where(p => !p.name.StartsWith(Export.OnnxWeightImporter.SideEmbeddingPrefix, StringComparison.Ordinal))
            .Select(p => p.parameter).ToArray();
        double sideRate = config.LearningRate * config.SideLearningRateFactor;
        var groups = new AdamW.ParamGroup[]
        {
            new(rest, lr: config.LearningRate, weight_decay: config.WeightDecay),
            new(side, lr: sideRate, weight_decay: config.WeightDecay),
        };
        return (optim.AdamW(groups, lr: config.LearningRate, weight_decay: config.WeightDecay), [1.0, config.SideLearningRateFactor]);
    }

    /// <summary>Sets every group's rate to the schedule's value times its factor.</summary>
    public static void SetRate(optim.Optimizer optimizer, double[] factors, double rate)
    {
        int i = 0;
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate * factors[i++];
    }
}
