using DANNet.Model.Onnx;
using DANNet.Trainer.IO;
using System.Globalization;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using DANNet.Trainer.Onnx;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DANNet.Trainer.Export;

/// <summary>What goes into an exported graph besides the mask.</summary>
/// <param name="Height">Input (and mask) height; a multiple of 4 when the graph relights.</param>
/// <param name="Width">Input (and mask) width; a multiple of 4 when the graph relights.</param>
/// <param name="Probabilities">Also output the re-weighted class probabilities, float32 [1,19,H,W].</param>
/// <param name="Relit">Also output the relit image x + r, float32 [1,3,H,W] in normalised space.</param>
/// <param name="Logits">Also output the raw main-head logits at the net's output stride (for parity checks).</param>
/// <param name="ReweightStrength">s of the probability re-weighting (DANNet's test value: 0.16).</param>
/// <param name="ClassFrequencies">Class frequencies of the training labels, for the re-weighting (default: Cityscapes').</param>
public sealed record ExportOptions(int Height, int Width, bool Probabilities = false, bool Relit = false, bool Logits = false,
    double ReweightStrength = ClassWeights.TestStrength, IReadOnlyList<double>? ClassFrequencies = null,
    InputResize Resize = InputResize.Antialiased)
{
    /// <summary>The frequencies the re-weighting uses.</summary>
    public IReadOnlyList<double> Frequencies => ClassFrequencies ?? ClassWeights.CityscapesFrequencies;

    /// <summary>The options that carry a model's <see cref="InferenceSettings"/> (size, frequencies, s).</summary>
    public static ExportOptions For(InferenceSettings settings) =>
        new(settings.Height, settings.Width, ReweightStrength: settings.ReweightStrength, ClassFrequencies: settings.ClassFrequencies);

    /// <summary>The output holding the raw logits when <see cref="Logits"/> is set.</summary>
    public const string LogitsOutput = "logits";
}

/// <summary>Where the exported weights came from, recorded in the model's metadata.</summary>
public sealed record ExportProvenance(string Source, string ConfigHash = "");

/// <summary>
/// Exports DANNet inference as one static ONNX graph (opset 17), from camera bytes to class mask:
/// <c>image</c> uint8 [1,H,W,3] BGR → Cast → Transpose → normalisation (one 1x1 conv that also swaps
/// BGR to RGB) → LightNet (x + r) → segmentation net → × class weights (s = 0.16) → bilinear resize
/// (align_corners) to H×W → ArgMax → Cast → <c>mask</c> uint8 [1,H,W]. BatchNorm is folded into the
/// convolutions and nothing training-only is emitted. The input is raw uint8 BGR NHWC because that
/// is what an OpenCV frame is: the runtime copies bytes, the GPU does the arithmetic, and the host
/// sends a quarter of the bytes float32 would need.
/// </summary>
public static class DannetExporter
{
    public const long Opset = 17;
    public const long IrVersion = 8;

    public static ModelProto Export(ArchitectureSpec architecture, LightNet? light, SegmentationNet segmentation, ExportOptions options, ExportProvenance provenance)
    {
        Validate(options, light is not null);
        light?.eval();
        segmentation.eval();
        var g = new OnnxGraph();
        long h = options.Height, w = options.Width;
        string image = g.Input(ModelContract.ImageInput, DataType.Uint8, 1, h, w, ModelContract.ImageChannels);
        string x;
        using (g.Scope("preprocess")) x = Normalise(g, g.Transpose(g.Cast(image, DataType.Float), 0, 3, 1, 2));
        if (light is not null)
        {
            string r;
            using (g.Scope("light")) r = light.EmitOnnx(g, x);
            x = g.Add(x, r);
            if (options.Relit) x = g.Output(x, ModelContract.RelitOutput);
        }
        string logits;
        using (g.Scope("segmentation")) logits = segmentation.EmitOnnx(g, x);
        if (options.Logits) logits = g.Output(logits, ExportOptions.LogitsOutput);
        using (g.Scope("postprocess"))
        {
            var weights = ClassWeights.FromFrequencies(options.Frequencies, options.ReweightStrength);
            string weighted = g.Binary("Mul", logits, g.Initializer("class_weights", weights, 1, weights.Length, 1, 1));
            string upsampled = g.ResizeBilinearAlignCorners(weighted, h, w);
            if (options.Probabilities) g.Output(g.Unary("Softmax", upsampled, OnnxGraph.Attr("axis", 1L)), ModelContract.ProbabilitiesOutput);
            g.Output(g.Cast(g.ArgMax(upsampled, 1), DataType.Uint8), ModelContract.MaskOutput);
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "dannet-train",
            ProducerVersion = CodeVersion.Current,
            DocString = $"DANNet {architecture}: {ModelContract.ImageInput} uint8 [1,{h},{w},3] BGR → {ModelContract.MaskOutput} uint8 [1,{h},{w}] Cityscapes trainIds.",
            Graph = g.Build(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in Metadata(architecture, light is not null, options, provenance))
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    private static void Validate(ExportOptions options, bool relights)
    {
        if (options.Height < 8 || options.Width < 8)
            throw new ArgumentException($"Export size {options.Height}x{options.Width} is too small (at least 8x8).");
        if (relights && (options.Height % 4 != 0 || options.Width % 4 != 0))
            throw new ArgumentException($"Export size {options.Height}x{options.Width}: LightNet needs height and width divisible by 4 (e.g. 540x960, 272x480).");
        if (options.ReweightStrength < 0) throw new ArgumentException("The re-weighting strength must not be negative.");
    }

    /// <summary>
    /// ImageNet normalisation of BGR 0..255 pixels as a 1x1 convolution whose weight matrix also
    /// reverses the channels: out_c = in_(2−c) / (255·std_c) − mean_c / std_c.
    /// </summary>
    private static string Normalise(OnnxGraph g, string bgr)
    {
        var weight = new float[9];
        var bias = new float[3];
        for (int c = 0; c < 3; c++)
        {
            weight[c * 3 + (2 - c)] = 1f / (255f * ModelContract.StdRgb[c]);
            bias[c] = -ModelContract.MeanRgb[c] / ModelContract.StdRgb[c];
        }
        return g.Conv(bgr, weight, [3, 3, 1, 1], bias, [1, 1], [0, 0], [1, 1]);
    }

    private static IEnumerable<(string, string)> Metadata(ArchitectureSpec architecture, bool relights, ExportOptions options, ExportProvenance provenance)
    {
        var inv = CultureInfo.InvariantCulture;
        yield return (ModelMetadataKeys.FormatVersion, ModelMetadataKeys.CurrentFormatVersion.ToString(inv));
        yield return (ModelMetadataKeys.Architecture, architecture.ToString());
        yield return (ModelMetadataKeys.Head, architecture.HeadComputes);
        yield return (ModelMetadataKeys.Resize, InputResizes.Name(options.Resize));
        yield return (ModelMetadataKeys.Input, $"{ModelContract.ImageInput} uint8 [1,{options.Height},{options.Width},3] BGR 0..255 NHWC");
        yield return (ModelMetadataKeys.InputHeight, options.Height.ToString(inv));
        yield return (ModelMetadataKeys.InputWidth, options.Width.ToString(inv));
        yield return (ModelMetadataKeys.Classes, string.Join(',', CityscapesClasses.Names));
        yield return (ModelMetadataKeys.Palette, string.Join(',', CityscapesClasses.All.Select(c => c.Color.ToString())));
        yield return (ModelMetadataKeys.Relighting, relights ? "true" : "false");
        yield return (ModelMetadataKeys.ReweightStrength, options.ReweightStrength.ToString("R", inv));
        yield return (ModelMetadataKeys.ClassFrequencies, string.Join(',', options.Frequencies.Select(f => f.ToString("R", inv))));
        yield return (ModelMetadataKeys.ConfigHash, provenance.ConfigHash);
        yield return (ModelMetadataKeys.Source, provenance.Source);
        yield return (ModelMetadataKeys.ExporterVersion, CodeVersion.Current);
    }
}
