using DANNet.Trainer.Data;
using DANNet.Model;
using DANNet.Calibration.Quantization;
using Google.Protobuf;
using Onnx;

namespace DANNet.Calibration.Measurement;

/// <summary>What quantising one tensor alone does to the mask: the share of pixels that change against the float model.</summary>
public sealed record TensorSensitivity(string Tensor, TensorRole Role, double ChangedPixels);

/// <summary>
/// The per-layer sensitivity report: for each calibrated tensor, a model in which that tensor alone
/// is quantised (its Q/DQ pairs; for a Conv output also that Conv's int8 weights) runs on the
/// frames, and its masks are compared with the float model's. Everything else stays float, so the
/// figure is that tensor's own cost. Tensors at the top are the ones to keep in float
/// (<c>--keep-float</c>).
/// </summary>
public static class Sensitivity
{
    public static IReadOnlyList<TensorSensitivity> Measure(ModelProto floatModel, IReadOnlyList<PlannedTensor> plan, IReadOnlyDictionary<string, float> scales,
        IReadOnlyList<byte[]> frames, int threads, IProgress<(int Done, int Total)>? progress = null)
    {
        if (frames.Count == 0) throw new ArgumentException("The sensitivity report needs at least one frame.", nameof(frames));
        List<byte[]> reference;
        using (var session = SegmentationSession.OpenCpu(floatModel.ToByteArray(), "the float model", threads)) reference = Masks(session, frames);
        // Every Conv output is in the "keep" set unless it is the tensor under test, so that no other Conv's weights are quantised.
        var convOutputs = floatModel.Graph.Node.Where(n => n.OpType == "Conv").Select(n => n.Output[0]);
        var all = plan.Select(t => t.Name).Concat(convOutputs).ToHashSet(StringComparer.Ordinal);
        var result = new List<TensorSensitivity>();
        for (int i = 0; i < plan.Count; i++)
        {
            var keep = new HashSet<string>(all, StringComparer.Ordinal);
            keep.Remove(plan[i].Name);
            using (var session = SegmentationSession.OpenCpu(QdqWriter.Quantize(floatModel, scales, keep).ToByteArray(), $"the model with '{plan[i].Name}' quantised", threads))
            {
                var agreement = MaskEvaluation.Agreement(reference, Masks(session, frames), f => $"frame {f}");
                result.Add(new TensorSensitivity(plan[i].Name, plan[i].Role, (double)(agreement.Pixels - agreement.Equal) / agreement.Pixels));
            }
            progress?.Report((i + 1, plan.Count));
        }
        return result.OrderByDescending(r => r.ChangedPixels).ThenBy(r => r.Tensor, StringComparer.Ordinal).ToList();
    }

    /// <summary>The model's mask for each frame (frames at the model's input size, as calibration reads them).</summary>
    internal static List<byte[]> Masks(SegmentationSession session, IReadOnlyList<byte[]> frames)
    {
        var masks = new List<byte[]>(frames.Count);
        foreach (var frame in frames)
        {
            frame.CopyTo(session.Image);
            session.Run();
            masks.Add(session.Mask.ToArray());
        }
        return masks;
    }
}
