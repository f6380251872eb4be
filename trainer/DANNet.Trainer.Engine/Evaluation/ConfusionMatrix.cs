using System.Globalization;
using System.Text;
using DANNet.Edge.Contracts;
using static TorchSharp.torch;

namespace DANNet.Trainer.Evaluation;

/// <summary>
/// A class confusion matrix (rows: ground truth, columns: prediction) over pixels whose label is
/// not 255, with per-class IoU = TP / (TP + FP + FN) and mIoU = mean over classes with a defined
/// IoU (classes absent from both labels and predictions are NaN and skipped, as in the reference).
/// </summary>
public sealed class ConfusionMatrix(int classes = CityscapesClasses.Count)
{
    private readonly long[] _counts = new long[classes * classes];

    public int Classes { get; } = classes;

    public long this[int truth, int predicted] => _counts[truth * Classes + predicted];

    /// <summary>Adds label/prediction pairs (any shape, integer; labels outside 0..classes−1, e.g. 255, are ignored).</summary>
    public void Add(Tensor labels, Tensor predictions)
    {
        // Counted in managed code: no implicit Scalars (their native handles can be finalised while
        // libtorch still reads them), and one pass over two flat arrays is all this needs.
        using var l = labels.flatten().to(ScalarType.Int64);
        using var p = predictions.flatten().to(ScalarType.Int64);
        var truth = l.data<long>();
        var predicted = p.data<long>();
        if (truth.Count != predicted.Count)
            throw new ArgumentException($"Labels ({truth.Count} values) and predictions ({predicted.Count}) differ in size.");
        for (int i = 0; i < truth.Count; i++)
        {
            long t = truth[i], q = predicted[i];
            if (t >= 0 && t < Classes && q >= 0 && q < Classes) _counts[t * Classes + q]++;
        }
    }

    /// <summary>Adds one label/prediction pair of plain class ids (for hand-made cases and tests).</summary>
    public void Add(int truth, int predicted, long count = 1) => _counts[truth * Classes + predicted] += count;

    public double[] IoU()
    {
        var iou = new double[Classes];
        for (int c = 0; c < Classes; c++)
        {
            long tp = this[c, c], fn = 0, fp = 0;
            for (int k = 0; k < Classes; k++)
            {
                if (k == c) continue;
                fn += this[c, k];
                fp += this[k, c];
            }
            long union = tp + fp + fn;
            iou[c] = union == 0 ? double.NaN : (double)tp / union;
        }
        return iou;
    }

    public double MeanIoU()
    {
        var defined = IoU().Where(v => !double.IsNaN(v)).ToList();
        return defined.Count == 0 ? double.NaN : defined.Average();
    }

    /// <summary>CSV with a header row of predicted class names and one row per true class.</summary>
    public string ToCsv()
    {
        var names = CityscapesClasses.Names.Take(Classes).ToList();
        var sb = new StringBuilder("truth\\predicted," + string.Join(',', names.Select(Quote)) + "\n");
        for (int t = 0; t < Classes; t++)
            sb.Append(Quote(names[t])).Append(',').AppendJoin(',', Enumerable.Range(0, Classes).Select(p => this[t, p].ToString(CultureInfo.InvariantCulture))).Append('\n');
        return sb.ToString();
    }

    private static string Quote(string s) => s.Contains(' ') ? $"\"{s}\"" : s;
}
