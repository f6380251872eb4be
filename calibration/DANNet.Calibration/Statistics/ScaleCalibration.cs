namespace DANNet.Calibration.Statistics;

/// <summary>How a tensor's int8 range is chosen from its histogram.</summary>
public enum CalibrationMethod
{
    /// <summary>The threshold whose 128-level quantisation loses least information (KL divergence), as TensorRT's EntropyCalibration2.</summary>
    Entropy,

    /// <summary>The given percentile of |x| (99.99 by default): clips the rarest values.</summary>
    Percentile,

    /// <summary>The largest |x|: nothing clipped, coarsest steps.</summary>
    MinMax,
}

/// <summary>
/// Symmetric int8 scales from |x| histograms: threshold T per tensor, scale T / 127, zero point 0
/// (what TensorRT requires of Q/DQ, and the dynamic range its calibration cache stores as scale·127).
/// </summary>
public static class ScaleCalibration
{
    public const int Levels = 128;

    /// <summary>The threshold (largest representable |x|) for <paramref name="histogram"/>.</summary>
    public static double Threshold(AbsHistogram histogram, CalibrationMethod method, double percentile = 99.99)
    {
        if (histogram.Total == 0) throw new ArgumentException("The histogram is empty: no values were seen for this tensor.", nameof(histogram));
        if (histogram.Max == 0) return histogram.BinWidth; // an all-zero tensor: any positive scale represents it exactly
        return method switch
        {
            CalibrationMethod.MinMax => histogram.Max,
            CalibrationMethod.Percentile => Percentile(histogram, percentile),
            CalibrationMethod.Entropy => Entropy(histogram),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
        };
    }

    public static float Scale(double threshold) => (float)(threshold / 127.0);

    /// <summary>The upper edge of the bin in which the <paramref name="percentile"/>-th percentile of |x| falls (never beyond the largest |x|).</summary>
    public static double Percentile(AbsHistogram h, double percentile)
    {
        if (percentile is <= 0 or > 100) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "A percentile in (0, 100].");
        double target = h.Total * percentile / 100.0;
        long cumulative = 0;
        for (int i = 0; i < h.Bins; i++)
        {
            cumulative += h.Counts[i];
            if (cumulative >= target) return Math.Min((i + 1) * h.BinWidth, h.Max);
        }
        return h.Max;
    }

    /// <summary>
    /// The entropy threshold: for every candidate count of bins i (128…bins), the reference
    /// distribution P is the first i bins with everything beyond folded into bin i − 1; the candidate Q
    /// merges those i bins into 128 levels and spreads each level's mass evenly back over the bins that
    /// were non-empty; the i with the smallest KL(P‖Q) wins and the threshold is (i + 0.5)·width, as in
    /// the published description of TensorRT's entropy calibration (never beyond the largest |x|). Empty bins of P or Q get a small
    /// probability (smoothing) so that the divergence stays finite.
    /// </summary>
    public static double Entropy(AbsHistogram h)
    {
        // The first bin holds every exact zero — half of a ReLU's output. Left as it is, that spike decides
        // the divergence (merging it with its neighbours costs more than clipping the whole tail), and the
        // search clips post-ReLU tensors hard. As NVIDIA's PyTorch quantisation toolkit does, the first bin
        // counts as much as the second for the search.
        var counts = (long[])h.Counts.Clone();
        if (counts.Length > 1) counts[0] = counts[1];
        int bins = h.Bins;
        // Bins beyond the last non-empty one cannot be better thresholds than it.
        int lastNonEmpty = bins - 1;
        while (lastNonEmpty > 0 && counts[lastNonEmpty] == 0) lastNonEmpty--;
        if (lastNonEmpty < Levels) return Math.Min((lastNonEmpty + 1) * h.BinWidth, h.Max);

        var p = new double[bins];
        var q = new double[bins];
        double best = double.PositiveInfinity;
        int bestI = lastNonEmpty + 1;
        var suffix = new long[bins + 1];
        for (int i = bins - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + counts[i];
        for (int i = Levels; i <= lastNonEmpty + 1; i++)
        {
            for (int j = 0; j < i; j++) p[j] = counts[j];
            p[i - 1] += suffix[i];
            // Quantise bins [0, i) into 128 levels and expand back over the non-empty bins.
            double merge = (double)i / Levels;
            for (int level = 0; level < Levels; level++)
            {
                int start = (int)Math.Floor(level * merge), end = level == Levels - 1 ? i : (int)Math.Floor((level + 1) * merge);
                double sum = 0;
                int nonEmpty = 0;
                for (int j = start; j < end; j++)
                {
                    sum += counts[j];
                    if (counts[j] != 0) nonEmpty++;
                }
                for (int j = start; j < end; j++) q[j] = counts[j] != 0 ? sum / nonEmpty : 0;
            }
            double divergence = Kl(p, q, i);
            if (divergence < best)
            {
                best = divergence;
                bestI = i;
            }
        }
        return Math.Min((bestI + 0.5) * h.BinWidth, h.Max);
    }

    private static double Kl(double[] p, double[] q, int n)
    {
        const double eps = 1e-4;
        // Smooth both: move eps of probability to every empty bin, taken proportionally from the others.
        static void Normalise(double[] d, int n, double[] into)
        {
            double sum = 0;
            int zeros = 0;
            for (int j = 0; j < n; j++)
            {
                sum += d[j];
                if (d[j] == 0) zeros++;
            }
            int nonZeros = n - zeros;
            double take = nonZeros > 0 && zeros > 0 ? eps * zeros / nonZeros : 0;
            for (int j = 0; j < n; j++) into[j] = d[j] == 0 ? eps : d[j] / sum - take;
        }
        var ps = new double[n];
        var qs = new double[n];
        Normalise(p, n, ps);
        Normalise(q, n, qs);
        double kl = 0;
        for (int j = 0; j < n; j++)
            if (ps[j] > 0 && qs[j] > 0) kl += ps[j] * Math.Log(ps[j] / qs[j]);
        return kl;
    }
}
