using KneeOnnx.Imaging;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace KneeOnnx.Training.Evaluation;

/// <summary>
/// 512-d pooled features of ImageNet ResNet-18 (the ONNX files of Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1)
/// for gray images: gray replicated to 3 channels at 224², values 0–255, through the package's own preprocessing graph
/// (per-pixel mean subtraction) and then the network. Images are first brought to a common <c>analysisSide</c> and then up
/// to 224² the same way, so two sets are compared at one resolution and resolution alone is not what is scored.
/// </summary>
public sealed class ResNet18Features : IDisposable
{
    public const int InputSide = 224;
    public const int Dimension = 512;
    private const string PreprocessInput = "OriginalInput", NetworkInput = "Input247", NetworkOutput = "Pooling395_Output_0";

    private readonly InferenceSession _preprocess;
    private readonly InferenceSession _network;
    private readonly float[] _input = new float[3 * InputSide * InputSide];
    private readonly RunOptions _runOptions = new();

    /// <param name="threads">ONNX Runtime's intra-op threads (0 = every core).</param>
    public ResNet18Features(string? modelDirectory = null, int threads = 0)
    {
        modelDirectory ??= Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
        string prep = Path.Combine(modelDirectory, "ResNetPreprocess.onnx"), net = Path.Combine(modelDirectory, "ResNet18.onnx");
        foreach (var f in new[] { prep, net })
            if (!File.Exists(f)) throw new FileNotFoundException($"{f}: ResNet-18 feature model not found (restored from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18)", f);
        using var options = new SessionOptions { IntraOpNumThreads = KneeOnnx.Validation.ThreadCount.Resolve(threads), LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        _preprocess = new InferenceSession(prep, options);
        _network = new InferenceSession(net, options);
    }

    /// <summary>Features of one image given in model space ([-1, 1], side×side), analysed at <paramref name="analysisSide"/>.</summary>
    public float[] Of(float[] pixels, int side, int analysisSide)
    {
        var gray = pixels.Select(v => new L8(PixelScale.ToByte(v))).ToArray();
        using var image = Image.LoadPixelData<L8>(gray, side, side);
        if (side != analysisSide) image.Mutate(x => x.Resize(analysisSide, analysisSide, KnownResamplers.Bicubic));
        image.Mutate(x => x.Resize(InputSide, InputSide, KnownResamplers.Bicubic));
        var resized = new L8[InputSide * InputSide];
        image.CopyPixelDataTo(resized);
        int plane = InputSide * InputSide;
        for (int i = 0; i < plane; i++)
            _input[i] = _input[plane + i] = _input[2 * plane + i] = resized[i].PackedValue;

        long[] shape = [1, 3, InputSide, InputSide];
        using var raw = OrtValue.CreateTensorValueFromMemory(_input, shape);
        using var prepared = _preprocess.Run(_runOptions, [PreprocessInput], [raw], [_preprocess.OutputNames[0]]);
        using var features = _network.Run(_runOptions, [NetworkInput], [prepared[0]], [NetworkOutput]);
        return features[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _preprocess.Dispose();
        _network.Dispose();
        _runOptions.Dispose();
    }
}
