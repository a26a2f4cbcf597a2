using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Model;

/// <summary>
/// The learned knee-side embedding (L, R and the null side), projected to the timestep embedding's width and added
/// there beside the grade's, whatever the grade's conditioning mode. The projection starts at zero, so a side-conditioned
/// network initialised from a grade-only one computes exactly what that one did until training moves it.
/// </summary>
public sealed class SideEmbedding : nn.Module<Tensor, Tensor>
{
    internal readonly Embedding table;
    internal readonly Linear to_time;

    public SideEmbedding(UNetConfig config) : base(nameof(SideEmbedding))
    {
        table = nn.Embedding(KneeSides.Count + 1, config.GradeEmbeddingDim);
        to_time = nn.Linear(config.GradeEmbeddingDim, config.TimeEmbeddingDim);
        using (no_grad())
        {
            to_time.weight!.zero_();
            to_time.bias!.zero_();
        }
        RegisterComponents();
    }

    /// <summary>side int64 [N] (0 = L, 1 = R, 2 = either) → [N, TimeEmbeddingDim].</summary>
    public override Tensor forward(Tensor side) => to_time.forward(table.forward(side));
}
