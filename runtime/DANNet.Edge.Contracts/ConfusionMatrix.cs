using System.Globalization;
using System.Text;
using DANNet.Edge.Contracts;

namespace DANNet.Edge.Contracts;

/// <summary>
/// A class confusion matrix (rows: ground truth, columns: prediction) over pixels whose label is
/// not 255, with per-class IoU = TP / (TP + FP + FN) and mIoU = mean over classes with a defined
/// IoU (classes absent from both labels and predictions are NaN and skipped, as in the reference).
/// </summary>
public sealed class ConfusionMatrix(int classes = CityscapesClasses.Count)
{
    private readonly long[] _counts = new long[classes * classes];

    /// <summary>The number of classes (rows and columns).</summary>
    public int Classes { get; } = classes;

    /// <summary>Pixels of class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _counts[truth * Classes + predicted];

    /// <summary>
    /// Adds label/prediction pairs from two flat arrays of class ids of equal length (labels outside
    /// 0..classes−1, e.g. 255, are ignored; so are predictions outside it).
    /// </summary>
    public void Add(ReadOnlySpan<byte> truth, ReadOnlySpan<byte> predicted)
    {
        if (truth.Length != predicted.Length)
            throw new ArgumentException($"Labels ({truth.Length} values) and predictions ({predicted.Length}) differ in size.");
        for (int i = 0; i < truth.Length; i++) Count(truth[i], predicted[i]);
    }

    /// <inheritdoc cref="Add(ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>
    public void Add(ReadOnlySpan<long> truth, ReadOnlySpan<long> predicted)
    {
        if (truth.Length != predicted.Length)
            throw new ArgumentException($"Labels ({truth.Length} values) and predictions ({predicted.Length}) differ in size.");
        for (int i = 0; i < truth.Length; i++) Count(truth[i], predicted[i]);
    }

    private void Count(long t, long q)
    {
        if (t >= 0 && t < Classes && q >= 0 && q < Classes) _counts[t * Classes + q]++;
    }

    /// <summary>Adds one label/prediction pair of plain class ids (for hand-made cases and tests).</summary>
    public void Add(int truth, int predicted, long count = 1) => _counts[truth * Classes + predicted] += count;

    /// <summary>Adds every count of <paramref name="other"/> (same number of classes): matrices of parts sum to the matrix of the whole.</summary>
    public void Add(ConfusionMatrix other)
    {
        if (other.Classes != Classes) throw new ArgumentException($"A {other.Classes}-class matrix cannot be added to a {Classes}-class one.");
        for (int i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
    }

    /// <summary>Every count, row by row (truth-major), as <see cref="FromCounts"/> takes them back.</summary>
    public long[] Counts() => (long[])_counts.Clone();

    /// <summary>A matrix from its counts, row by row; the number of classes is the square root of their number.</summary>
    public static ConfusionMatrix FromCounts(IReadOnlyList<long> counts)
    {
        int classes = (int)Math.Round(Math.Sqrt(counts.Count));
        if (classes * classes != counts.Count || classes == 0)
            throw new InvalidDataException($"A confusion matrix needs a square number of counts, not {counts.Count}.");
        var m = new ConfusionMatrix(classes);
        for (int i = 0; i < counts.Count; i++)
        {
            if (counts[i] < 0) throw new InvalidDataException($"A confusion matrix count is negative ({counts[i]}).");
            m._counts[i] = counts[i];
        }
        return m;
    }

    /// <summary>All pixels counted.</summary>
    public long Total => _counts.Sum();

    /// <summary>The share of counted pixels on the diagonal (truth = prediction): pixel accuracy, or agreement of two models; NaN when empty.</summary>
    public double Agreement()
    {
        long diagonal = 0;
        for (int c = 0; c < Classes; c++) diagonal += this[c, c];
        long total = Total;
        return total == 0 ? double.NaN : (double)diagonal / total;
    }

    /// <summary>Pixels whose truth (row) is each class.</summary>
    public long[] RowTotals() => Enumerable.Range(0, Classes).Select(t => Enumerable.Range(0, Classes).Sum(p => this[t, p])).ToArray();

    /// <summary>Pixels predicted (column) as each class.</summary>
    public long[] ColumnTotals() => Enumerable.Range(0, Classes).Select(p => Enumerable.Range(0, Classes).Sum(t => this[t, p])).ToArray();

    /// <summary>Per-class IoU = TP / (TP + FP + FN); NaN for a class absent from labels and predictions.</summary>
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

    /// <summary>The mean of the defined per-class IoUs (NaN when none is).</summary>
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
