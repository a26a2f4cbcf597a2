using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Model;

/// <summary>
/// The learned grade embedding (one row per KL grade, plus the null grade when trained with label dropout), in the
/// two ways the report describes: <see cref="Conditioning.Concat"/> appends it as constant image channels;
/// <see cref="Conditioning.Add"/> projects it to the timestep-embedding width and adds it there.
/// </summary>
public sealed class GradeEmbedding : nn.Module<Tensor, Tensor>
{
    internal readonly Embedding table;
    // Only in add mode: maps the 32-d grade vector to the timestep embedding's width.
    internal readonly ModuleList<Linear> to_time = new();

    public string Mode { get; }
    public int Dim { get; }

    public GradeEmbedding(UNetConfig config) : base(nameof(GradeEmbedding))
    {
        Mode = config.Conditioning;
        Dim = config.GradeEmbeddingDim;
        table = nn.Embedding(config.GradeTableSize, config.GradeEmbeddingDim);
        if (Mode == Conditioning.Add)
            to_time.Add(nn.Linear(config.GradeEmbeddingDim, config.TimeEmbeddingDim));
        RegisterComponents();
    }

    /// <summary>The grade vector [N, Dim] (concat) or its timestep-width projection [N, TimeEmbeddingDim] (add).</summary>
    public override Tensor forward(Tensor grade)
    {
        var vector = table.forward(grade);
        return to_time.Count == 0 ? vector : to_time[0].forward(vector);
    }

    /// <summary>Concat mode: [N, C, H, W] → [N, C + Dim, H, W] with the grade vector repeated at every pixel.</summary>
    public Tensor AppendAsChannels(Tensor sample, Tensor gradeVector)
    {
        long n = sample.shape[0], h = sample.shape[2], w = sample.shape[3];
        var planes = gradeVector.reshape(n, Dim, 1, 1).expand(n, Dim, h, w);
        return cat([sample, planes], 1);
    }
}
