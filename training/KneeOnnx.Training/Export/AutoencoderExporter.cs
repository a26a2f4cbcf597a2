using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using KneeOnnx.Runtime;
using KneeOnnx.Training.Autoencoder;
using KneeOnnx.Training.Export.Emitters;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace KneeOnnx.Training.Export;

/// <summary>
/// Exports a trained knee autoencoder as two self-describing graphs, encoder and decoder, each checked against
/// TorchSharp in ONNX Runtime before it is written. Both carry the scale factor and the SHA-256 of the weights they came
/// from, so a decoder can be matched to the encoder (and the latent U-Net) it belongs with.
/// </summary>
public static class AutoencoderExporter
{
    /// <param name="RoundingMaxAbsDiff">with float16 storage, how far the file's output is from the unrounded network's
    /// on the self-check input (the self-check itself compares with the rounded network).</param>
    public sealed record Part(string Name, ModelProto Proto, double SelfCheckMaxAbsDiff, double? RoundingMaxAbsDiff = null);

    /// <param name="averaged">whether <paramref name="model"/> holds the run's weight average (recorded in the part).</param>
    public static Part Encoder(KneeAutoencoder model, AutoencoderState state, float scale, string weightsSha256, WeightStorage storage = WeightStorage.Float32, bool averaged = false)
    {
        var c = model.Config;
        var g = new OnnxGraphBuilder(model, storage);
        g.Graph.Name = "kneeonnx_vae_encoder";
        g.Graph.Input.Add(OnnxExporter.Value(AutoencoderContract.ImageName, TensorProto.Types.DataType.Float, ["N", 1, "H", "W"]));
        string result = AutoencoderEmitter.EmitEncoder(g, model.Encoder, AutoencoderContract.ImageName, scale);
        Output(g, result, AutoencoderContract.LatentName, ["N", c.LatentChannels, "h", "w"]);
        var proto = Wrap(g.Graph, state, AutoencoderContract.EncoderPart, scale, weightsSha256, "Knee radiograph encoder: image [-1,1] → latent (posterior mean × scale).", storage, averaged);
        return Checked(AutoencoderContract.EncoderPart, proto, model.Encoder, storage, AutoencoderContract.ImageName, [2, 1, c.ImageSize, c.ImageSize], x => model.Encode(x).Mean * scale);
    }

    public static Part Decoder(KneeAutoencoder model, AutoencoderState state, float scale, string weightsSha256, WeightStorage storage = WeightStorage.Float32, bool averaged = false)
    {
        var c = model.Config;
        var g = new OnnxGraphBuilder(model, storage);
        g.Graph.Name = "kneeonnx_vae_decoder";
        g.Graph.Input.Add(OnnxExporter.Value(AutoencoderContract.LatentName, TensorProto.Types.DataType.Float, ["N", c.LatentChannels, "h", "w"]));
        string result = AutoencoderEmitter.EmitDecoder(g, model.Decoder, AutoencoderContract.LatentName, scale);
        Output(g, result, AutoencoderContract.ImageName, ["N", 1, "H", "W"]);
        var proto = Wrap(g.Graph, state, AutoencoderContract.DecoderPart, scale, weightsSha256, "Knee radiograph decoder: latent (scaled) → image in [-1,1].", storage, averaged);
        return Checked(AutoencoderContract.DecoderPart, proto, model.Decoder, storage, AutoencoderContract.LatentName, [2, c.LatentChannels, c.LatentSize, c.LatentSize],
            z => model.Decoder.forward(z / scale).clamp(-1, 1));
    }

    /// <summary>
    /// The self-check of one part. With float16 storage the part's network is first compared unrounded (what storage
    /// costs, reported), then rounded in place as the file stores it and compared again (the check that must pass).
    /// </summary>
    private static Part Checked(string name, ModelProto proto, nn.Module part, WeightStorage storage, string inputName, long[] shape, Func<Tensor, Tensor> reference)
    {
        double? rounding = null;
        if (storage == WeightStorage.Float16)
        {
            rounding = Check(proto, inputName, shape, reference);
            WeightStorageNames.RoundParameters(part, storage);
            OnnxExporter.SetMetadata(proto, ModelContract.Keys.Float16RoundingMaxAbsDiff, rounding.Value.ToString("E3", CultureInfo.InvariantCulture));
        }
        double diff = Check(proto, inputName, shape, reference);
        return new Part(name, Stamp(proto, diff), diff, rounding);
    }

    private static void Output(OnnxGraphBuilder g, string result, string name, object[] dims)
    {
        var identity = new NodeProto { OpType = "Identity", Name = "n_" + name };
        identity.Input.Add(result);
        identity.Output.Add(name);
        g.Graph.Node.Add(identity);
        g.Graph.Output.Add(OnnxExporter.Value(name, TensorProto.Types.DataType.Float, dims));
    }

    private static ModelProto Wrap(GraphProto graph, AutoencoderState state, string part, float scale, string weightsSha256, string doc, WeightStorage storage, bool averaged)
    {
        var proto = new ModelProto
        {
            IrVersion = OnnxExporter.IrVersion, ProducerName = "KneeOnnx", ProducerVersion = OnnxExporter.ExporterVersion, Domain = "org.kneeonnx",
            ModelVersion = state.Step, Graph = graph,
            DocString = doc + " Trained on Chen P., Knee Osteoarthritis Severity Grading Dataset, Mendeley Data, 2018, doi:10.17632/56rmx5bjcr.1 (CC BY 4.0).",
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxExporter.Opset });
        var c = state.Model;
        var inv = CultureInfo.InvariantCulture;
        (string, string)[] metadata =
        [
            (ModelContract.Keys.FormatVersion, ModelContract.FormatVersion),
            (AutoencoderContract.Keys.Part, part),
            (ModelContract.Keys.ImageSize, c.ImageSize.ToString(inv)),
            (ModelContract.Keys.PixelRange, "[-1,1] = gray/127.5 - 1"),
            (AutoencoderContract.Keys.LatentChannels, c.LatentChannels.ToString(inv)),
            (AutoencoderContract.Keys.LatentSize, c.LatentSize.ToString(inv)),
            (AutoencoderContract.Keys.Factor, c.Factor.ToString(inv)),
            (AutoencoderContract.Keys.ScaleFactor, scale.ToString("R", inv)),
            (AutoencoderContract.Keys.AutoencoderConfig, JsonSerializer.Serialize(c)),
            (AutoencoderContract.Keys.AutoencoderSha256, weightsSha256),
            (ModelContract.Keys.Preset, c.Preset),
            (ModelContract.Keys.TrainSteps, state.Step.ToString(inv)),
            (ModelContract.Keys.TrainSeed, state.Train.Seed.ToString(inv)),
            (ModelContract.Keys.DatasetSha256, state.DatasetSha256),
            (ModelContract.Keys.ExportTime, DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", inv)),
            (ModelContract.Keys.ExporterVersion, OnnxExporter.ExporterVersion),
            (ModelContract.Keys.WeightStorage, WeightStorageNames.Name(storage)),
            (AutoencoderContract.Keys.Weights, averaged ? "ema" : "raw"),
        ];
        foreach (var (key, value) in metadata) proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    private static ModelProto Stamp(ModelProto proto, double diff)
    {
        OnnxExporter.SetMetadata(proto, ModelContract.Keys.SelfCheckMaxAbsDiff, diff.ToString("E3", CultureInfo.InvariantCulture));
        return proto;
    }

    /// <summary>Largest |ONNX Runtime − TorchSharp| on a seeded random input of the given shape.</summary>
    private static double Check(ModelProto proto, string inputName, long[] shape, Func<Tensor, Tensor> reference)
    {
        using var options = new SessionOptions { IntraOpNumThreads = Math.Max(1, Environment.ProcessorCount) };
        using var session = new InferenceSession(proto.ToByteArray(), options);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var generator = new Generator(7);
        var input = randn(shape, generator: generator);
        var expected = reference(input).contiguous().data<float>().ToArray();
        var values = input.data<float>().ToArray();
        using var ortInput = OrtValue.CreateTensorValueFromMemory(values, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [ortInput], [session.OutputNames[0]]);
        var actual = outputs[0].GetTensorDataAsSpan<float>();
        if (actual.Length != expected.Length) throw new InvalidOperationException($"ONNX output has {actual.Length} values, TorchSharp {expected.Length}");
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double diff = Math.Abs(actual[i] - expected[i]);
            if (!(diff <= worst)) worst = double.IsNaN(diff) ? double.PositiveInfinity : diff;
        }
        return worst;
    }
}
