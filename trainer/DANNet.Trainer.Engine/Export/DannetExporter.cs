using DANNet.Model;
using DANNet.Model.Onnx;
using DANNet.Trainer.IO;
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
/// <param name="Inference">Input (and mask) size, class frequencies and s of the re-weighting; the size is a multiple of 4 when the graph relighting.</param>
/// <param name="Probabilities">Also output the re-weighted class probabilities, float32 [1,19,H,W].</param>
/// <param name="Relit">Also output the relit image x + r, float32 [1,3,H,W] in normalised space.</param>
/// <param name="Logits">Also output the raw main-head logits at the net's output stride (for parity checks).</param>
/// <param name="Resize">The frame → input resize the model is evaluated with, stated in its card.</param>
/// <param name="Batch">Images per run (static), 1..<see cref="ModelContract.MaxBatch"/>: image [B,H,W,3] → mask [B,H,W].</param>
public sealed record ExportOptions(InferenceSettings Inference, bool Probabilities = false, bool Relit = false, bool Logits = false,
    InputResize Resize = InputResize.Antialiased, int Batch = 1)
{
    /// <summary>The reference settings (Cityscapes frequencies, s = 0.16) at <paramref name="height"/>×<paramref name="width"/>.</summary>
    public static ExportOptions At(int height, int width) => new(InferenceSettings.Reference.WithSize(height, width));

    /// <summary>Input (and mask) height.</summary>
    public int Height => Inference.Height;

    /// <summary>Input (and mask) width.</summary>
    public int Width => Inference.Width;

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
        long h = options.Height, w = options.Width, b = options.Batch;
        string image = g.Input(ModelContract.ImageInput, DataType.Uint8, b, h, w, ModelContract.ImageChannels);
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
            var weights = options.Inference.ClassWeights();
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
            DocString = $"DANNet {architecture}: {ModelContract.ImageInput} uint8 [{b},{h},{w},3] BGR → {ModelContract.MaskOutput} uint8 [{b},{h},{w}] Cityscapes trainIds.",
            Graph = g.Build(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        Card(architecture, light is not null, options, provenance).WriteTo(model);
        return model;
    }

    private static void Validate(ExportOptions options, bool relighting)
    {
        if (options.Height < 8 || options.Width < 8)
            throw new ArgumentException($"Export size {options.Height}x{options.Width} is too small (at least 8x8).");
        if (relighting && (options.Height % 4 != 0 || options.Width % 4 != 0))
            throw new ArgumentException($"Export size {options.Height}x{options.Width}: LightNet needs height and width divisible by 4 (e.g. 540x960, 272x480).");
        if (options.Batch is < 1 or > ModelContract.MaxBatch)
            throw new ArgumentException($"Export batch {options.Batch}: 1 to {ModelContract.MaxBatch} images per run.");
        if (options.Inference.ReweightStrength < 0) throw new ArgumentException("The re-weighting strength must not be negative.");
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

    /// <summary>The card an exported model carries: everything a consumer needs to feed it, label its output and trace it.</summary>
    public static ModelCard Card(ArchitectureSpec architecture, bool relighting, ExportOptions options, ExportProvenance provenance) => new()
    {
        FormatVersion = ModelMetadataKeys.CurrentFormatVersion, Architecture = architecture.ToString(), Head = architecture.HeadComputes,
        Height = options.Height, Width = options.Width, Batch = options.Batch, Classes = CityscapesClasses.Names, Palette = CityscapesClasses.Palette, Relighting = relighting,
        ReweightStrength = options.Inference.ReweightStrength, ClassFrequencies = options.Inference.ClassFrequencies, StatedResize = options.Resize,
        Provenance = new ModelProvenance(provenance.Source, provenance.ConfigHash, CodeVersion.Current),
    };
}
