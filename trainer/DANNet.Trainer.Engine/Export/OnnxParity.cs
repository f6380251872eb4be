using DANNet.Trainer.Data;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using DANNet.Trainer.Onnx;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using DANNet.Trainer.Torch;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Export;

/// <summary>How closely ONNX Runtime's run of an exported graph follows TorchSharp on one image.</summary>
/// <param name="MaxAbsLogitDiff">Largest absolute difference of the raw main-head logits.</param>
/// <param name="MaxAbsRelitDiff">Largest absolute difference of the relit image x + r (null without LightNet).</param>
/// <param name="MaskMismatches">Mask pixels whose class differs.</param>
/// <param name="Pixels">Mask pixels compared.</param>
/// <param name="MaxAbsLogit">Largest absolute logit (TorchSharp), the scale the difference is relative to.</param>
public sealed record ParityResult(double MaxAbsLogitDiff, double MaxAbsLogit, double? MaxAbsRelitDiff, long MaskMismatches, long Pixels)
{
    /// <summary>The fraction of mask pixels on which both agree.</summary>
    public double MaskAgreement => 1.0 - (double)MaskMismatches / Pixels;

    /// <summary>Whether the export is faithful: logits within <see cref="OnnxParity.MaxLogitDifference"/>, masks at least <see cref="OnnxParity.MinMaskAgreement"/> equal.</summary>
    public bool Passes => double.IsFinite(MaxAbsLogitDiff) && MaxAbsLogitDiff <= OnnxParity.MaxLogitDifference && MaskAgreement >= OnnxParity.MinMaskAgreement;

    public override string ToString() =>
        $"logits max |Δ| {MaxAbsLogitDiff:E2} (max |logit| {MaxAbsLogit:F2})" + (MaxAbsRelitDiff is { } r ? $", relit max |Δ| {r:E2}" : "") +
        $", mask agreement {100 * MaskAgreement:F3} % ({MaskMismatches} of {Pixels} pixels differ)";
}

/// <summary>
/// Runs an exported graph in ONNX Runtime (CPU provider) next to the TorchSharp nets it came from.
/// The graph checked is the one exported plus the logits (and relit) outputs.
/// </summary>
public static class OnnxParity
{
    /// <summary>The largest logit difference an export may show against TorchSharp (float32 kernels of two libraries, folded BatchNorm).</summary>
    public const double MaxLogitDifference = 1e-4;

    /// <summary>The smallest share of equal mask pixels an export may show (argmax near-ties may flip).</summary>
    public const double MinMaskAgreement = 0.999;

    /// <param name="exported">The options of the export being checked (its re-weighting); the size is the image's.</param>
    public static ParityResult Check(ArchitectureSpec architecture, LightNet? light, SegmentationNet segmentation, Mat bgr, int threads = 2, ExportOptions? exported = null)
    {
        int h = bgr.Rows, w = bgr.Cols;
        var options = (exported ?? ExportOptions.At(h, w)) with
        {
            // The parity of the weights and the graph's arithmetic: one image (a batch repeats the same graph per image).
            Inference = (exported?.Inference ?? InferenceSettings.Reference).WithSize(h, w), Probabilities = false, Relit = light is not null, Logits = true, Batch = 1,
        };
        var model = DannetExporter.Export(architecture, light, segmentation, options, new ExportProvenance("parity check"));

        using var session = CreateCpuSession(model.ToByteArray(), threads);
        using var input = OrtValue.CreateTensorValueFromMemory(ImageBytes(bgr), [1, h, w, 3]);
        var outputNames = session.OutputNames.ToArray();
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [ModelContract.ImageInput], [input], outputNames);
        ReadOnlySpan<float> Output(string name) => outputs[Array.IndexOf(outputNames, name)].GetTensorDataAsSpan<float>();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        light?.eval();
        segmentation.eval();
        var x = ImageTensors.Stack([bgr]);
        double? relitDiff = null;
        if (light is not null)
        {
            x = x.Plus(light.call(x));
            relitDiff = MaxAbsDiff(x, Output(ModelContract.RelitOutput));
        }
        var logits = segmentation.call(x);
        double logitDiff = MaxAbsDiff(logits, Output(ExportOptions.LogitsOutput));

        var weights = tensor(options.Inference.ClassWeights()).view(1, -1, 1, 1);
        var mask = DannetNets.Upsample(logits * weights, h, w).argmax(1).to(ScalarType.Byte).flatten().data<byte>().ToArray();
        var onnxMask = outputs[Array.IndexOf(outputNames, ModelContract.MaskOutput)].GetTensorDataAsSpan<byte>();
        long mismatches = 0;
        for (int i = 0; i < mask.Length; i++) if (mask[i] != onnxMask[i]) mismatches++;
        return new ParityResult(logitDiff, logits.abs().max().item<float>(), relitDiff, mismatches, mask.Length);
    }

    /// <summary>An ONNX Runtime session on the CPU provider with <paramref name="threads"/> intra-op threads.</summary>
    public static InferenceSession CreateCpuSession(byte[] model, int threads)
    {
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        return new InferenceSession(model, options);
    }

    /// <summary>A continuous 8-bit BGR image's bytes (H×W×3).</summary>
    public static byte[] ImageBytes(Mat bgr)
    {
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException("Expected an 8-bit BGR image.", nameof(bgr));
        using var copy = bgr.IsContinuous() ? null : bgr.Clone();
        var bytes = new byte[bgr.Rows * bgr.Cols * 3];
        System.Runtime.InteropServices.Marshal.Copy((copy ?? bgr).Data, bytes, 0, bytes.Length);
        return bytes;
    }

    private static double MaxAbsDiff(Tensor expected, ReadOnlySpan<float> actual)
    {
        var e = expected.contiguous().data<float>().ToArray();
        if (e.Length != actual.Length) throw new InvalidOperationException($"Output sizes differ: TorchSharp {e.Length}, ONNX Runtime {actual.Length}.");
        double max = 0;
        for (int i = 0; i < e.Length; i++) max = Math.Max(max, Math.Abs(e[i] - actual[i]));
        return max;
    }
}
