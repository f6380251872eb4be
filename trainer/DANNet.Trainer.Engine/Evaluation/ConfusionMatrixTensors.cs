using DANNet.Edge.Contracts;
using DANNet.Trainer.Torch;
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

    /// <summary>
    /// Adds label/prediction pairs counted on their own device: the pairs (label·classes + prediction, labels in 0..classes−1 only) are
    /// counted by <c>bincount</c> there, and only the classes² counts cross to the host — the same numbers as <see cref="Add"/>.
    /// </summary>
    public static void AddCounted(this ConfusionMatrix confusion, Tensor labels, Tensor predictions)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        int classes = confusion.Classes;
        var l = labels.flatten().to(ScalarType.Int64);
        var p = predictions.flatten().to(ScalarType.Int64);
        var valid = l.lt(s[classes]).logical_and(l.ge(s[0L])).logical_and(p.lt(s[classes])).logical_and(p.ge(s[0L]));
        var pairs = l.masked_select(valid).mul(s[classes]).Plus(p.masked_select(valid));
        var counts = pairs.bincount(null, classes * classes).cpu().data<long>().ToArray();
        for (int t = 0; t < classes; t++)
            for (int q = 0; q < classes; q++)
                if (counts[t * classes + q] != 0) confusion.Add(t, q, counts[t * classes + q]);
    }
}
