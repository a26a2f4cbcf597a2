using KneeOnnx.Training.Autoencoder;
using static KneeOnnx.Training.Export.OnnxGraphBuilder;

namespace KneeOnnx.Training.Export.Emitters;

/// <summary>The knee autoencoder's encoder (image → scaled posterior mean) and decoder (scaled latent → image in [-1,1]).</summary>
public static class AutoencoderEmitter
{
    public static string EmitEncoder(OnnxGraphBuilder g, Encoder encoder, string image, float scale)
    {
        string h = ConvEmitter.Emit(g, encoder.conv_in, image);
        int perLevel = encoder.blocks.Count / (encoder.down.Count + 1);
        for (int i = 0; i < encoder.blocks.Count; i++)
        {
            h = Block(g, encoder.blocks[i], h);
            int level = i / perLevel;
            if ((i + 1) % perLevel == 0 && level < encoder.down.Count) h = ResamplingEmitter.Emit(g, encoder.down[level], h);
        }
        foreach (var block in encoder.mid) h = Block(g, block, h);
        h = GroupNormEmitter.Emit(g, encoder.norm_out, h);
        h = SiluEmitter.Emit(g, h, "encoder_act_out");
        string moments = ConvEmitter.Emit(g, encoder.conv_out, h);
        long channels = encoder.conv_out.weight!.shape[0] / 2;
        // The mean is the first half of the moments' channels; the log-variance is only for training.
        string mean = g.Node("Slice", [moments, g.Int64s(0), g.Int64s(channels), g.Int64s(1)], "encoder_mean");
        return g.Node("Mul", [mean, g.SharedFloats("scale_factor", [scale], [])], "encoder_scaled");
    }

    public static string EmitDecoder(OnnxGraphBuilder g, Decoder decoder, string latent, float scale)
    {
        string unscaled = g.Node("Mul", [latent, g.SharedFloats("inverse_scale_factor", [1f / scale], [])], "decoder_unscaled");
        string h = ConvEmitter.Emit(g, decoder.conv_in, unscaled);
        foreach (var block in decoder.mid) h = Block(g, block, h);
        int perLevel = decoder.blocks.Count / (decoder.up.Count + 1);
        for (int i = 0; i < decoder.blocks.Count; i++)
        {
            h = Block(g, decoder.blocks[i], h);
            int level = i / perLevel;
            if ((i + 1) % perLevel == 0 && level < decoder.up.Count) h = ResamplingEmitter.Emit(g, decoder.up[level], h);
        }
        h = GroupNormEmitter.Emit(g, decoder.norm_out, h);
        h = SiluEmitter.Emit(g, h, "decoder_act_out");
        h = ConvEmitter.Emit(g, decoder.conv_out, h);
        // The image contract is [-1, 1]; the decoder is trained towards it but is not bounded by construction.
        return g.Node("Clip", [h, g.SharedFloats("minus_one", [-1f], []), g.SharedFloats("plus_one", [1f], [])], "decoder_image");
    }

    private static string Block(OnnxGraphBuilder g, AeResBlock block, string input)
    {
        string name = g.PathOf(block).Replace('.', '_');
        string h = GroupNormEmitter.Emit(g, block.norm1, input);
        h = SiluEmitter.Emit(g, h, name + "_act1");
        h = ConvEmitter.Emit(g, block.conv1, h);
        h = GroupNormEmitter.Emit(g, block.norm2, h);
        h = SiluEmitter.Emit(g, h, name + "_act2");
        h = ConvEmitter.Emit(g, block.conv2, h);
        string shortcut = block.skip.Count == 0 ? input : ConvEmitter.Emit(g, block.skip[0], input);
        return g.Node("Add", [shortcut, h], name);
    }
}
