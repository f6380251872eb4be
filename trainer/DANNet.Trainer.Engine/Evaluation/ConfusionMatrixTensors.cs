using DANNet.Edge.Contracts;
using static TorchSharp.torch;

namespace DANNet.Trainer.Evaluation;

/// <summary>Counting tensors (a checkpoint's predictions) into the torch-free <see cref="ConfusionMatrix"/>.</summary>
public static class ConfusionMatrixTensors
{
    /// <summary>Adds label/prediction pairs (any shape, integer; labels outside 0..classes−1, e.g. 255, are ignored).</summary>
    public static void Add(this ConfusionMatrix confusion, Tensor labels, Tensor predictions)
    {
        // Copied out as flat int64 and counted in managed code: no implicit Scalars (their native
        // handles can be finalised while libtorch still reads them).
        using var l = labels.flatten().to(ScalarType.Int64);
        using var p = predictions.flatten().to(ScalarType.Int64);
        confusion.Add(l.data<long>().ToArray(), p.data<long>().ToArray());
    }
}
