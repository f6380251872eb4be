namespace DANNet.Calibration.Statistics;

/// <summary>
/// A histogram of |x| over [0, <see cref="Range"/>] in <see cref="Bins"/> equal bins, as calibrators
/// collect it per tensor (TensorRT's entropy calibration uses 2048 bins over the tensor's absolute
/// maximum). Values beyond the range land in the last bin and are counted in <see cref="Overflow"/>.
/// </summary>
public sealed class AbsHistogram
{
    public const int DefaultBins = 2048;

    public AbsHistogram(double range, int bins = DefaultBins)
    {
        if (!(range > 0) || double.IsInfinity(range)) throw new ArgumentOutOfRangeException(nameof(range), range, "The range must be positive and finite.");
        if (bins < 128) throw new ArgumentOutOfRangeException(nameof(bins), bins, "At least 128 bins (one per int8 level).");
        Range = range;
        Counts = new long[bins];
    }

    public double Range { get; }

    public int Bins => Counts.Length;

    public long[] Counts { get; }

    public double BinWidth => Range / Bins;

    /// <summary>Values whose |x| exceeded the range (counted in the last bin).</summary>
    public long Overflow { get; private set; }

    /// <summary>NaN or infinite values seen (not counted in any bin).</summary>
    public long NonFinite { get; private set; }

    public long Total { get; private set; }

    /// <summary>The largest |x| seen.</summary>
    public double Max { get; private set; }

    public void Add(ReadOnlySpan<float> values)
    {
        double scale = Bins / Range;
        int last = Bins - 1;
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                NonFinite++;
                continue;
            }
            double a = Math.Abs(v);
            if (a > Max) Max = a;
            int bin = (int)(a * scale);
            if (bin > last)
            {
                bin = last;
                if (a > Range) Overflow++;
            }
            Counts[bin]++;
            Total++;
        }
    }
}
