using DANNet.Calibration.Statistics;
using DANNet.Calibration.Tables;

namespace DANNet.Edge.Tests.Calibration;

/// <summary>Thresholds of the three methods on distributions whose answer is known.</summary>
public sealed class ScaleCalibrationTests
{
    private const int N = 1_000_000;

    private static AbsHistogram Histogram(float[] values)
    {
        var h = new AbsHistogram(values.Max(v => Math.Abs(v)));
        h.Add(values);
        return h;
    }

    private static float[] Uniform(int seed, int n, double a)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((2 * r.NextDouble() - 1) * a)).ToArray();
    }

    private static float[] Gaussian(int seed, int n)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()))).ToArray();
    }

    [Fact]
    public void Uniform_values_keep_almost_the_whole_range_under_every_method()
    {
        var h = Histogram(Uniform(1, N, 1.0));
        double width = h.BinWidth;
        Assert.InRange(ScaleCalibration.Threshold(h, CalibrationMethod.MinMax), 0.9999, 1.0);
        // |x| is uniform on [0, 1]: its 99.99th percentile is 0.9999, found to within a bin.
        Assert.InRange(ScaleCalibration.Threshold(h, CalibrationMethod.Percentile), 0.9999 - width, 0.9999 + width);
        // Clipping a uniform distribution loses the clipped mass entirely: entropy keeps (nearly) all of it.
        Assert.InRange(ScaleCalibration.Threshold(h, CalibrationMethod.Entropy), 0.95, 1.0);
        Assert.Equal(ScaleCalibration.Threshold(h, CalibrationMethod.MinMax) / 127, ScaleCalibration.Scale(ScaleCalibration.Threshold(h, CalibrationMethod.MinMax)), 6);
    }

    [Fact]
    public void Gaussian_values_are_clipped_by_entropy_well_inside_the_extremes()
    {
        var h = Histogram(Gaussian(2, N));
        double max = ScaleCalibration.Threshold(h, CalibrationMethod.MinMax);
        // A million standard normal draws: the largest |x| is about 4.9 (P(|x| > 4.4) ≈ 1e-5 per draw).
        Assert.InRange(max, 4.4, 6.0);
        // P(|x| > 3.8906) = 1e-4: the 99.99th percentile of |x|.
        Assert.InRange(ScaleCalibration.Threshold(h, CalibrationMethod.Percentile), 3.8906 - 0.1, 3.8906 + 0.1);
        // Entropy trades the rare tail for finer steps: between the 99th percentile of |x| (2.576) and the maximum.
        double entropy = ScaleCalibration.Threshold(h, CalibrationMethod.Entropy);
        Assert.InRange(entropy, 2.576, max * 0.9);
    }

    [Fact]
    public void Exact_zeros_of_a_relu_do_not_pull_the_entropy_threshold_down()
    {
        // A ReLU of a standard normal: half the values exactly 0, half a half-normal. The zeros sit in the first
        // bin and carry no information about where to clip; the threshold must be the Gaussian's (between
        // its 99th percentile of |x|, 2.576, and the maximum), not a fraction of it (1.96 before the fix).
        var relu = Gaussian(6, N).Select(v => Math.Max(0f, v)).ToArray();
        var h = Histogram(relu);
        Assert.InRange(ScaleCalibration.Threshold(h, CalibrationMethod.Entropy), 2.576, h.Max * 0.9);
    }

    [Fact]
    public void A_spike_with_a_long_tail_separates_entropy_from_min_max()
    {
        // 99.9 % of the values within ±1, 0.1 % spread out to ±100: activations with rare outliers.
        var values = Uniform(3, N - N / 1000, 1.0).Concat(Uniform(4, N / 1000, 100.0)).ToArray();
        var h = Histogram(values);
        double max = ScaleCalibration.Threshold(h, CalibrationMethod.MinMax);
        Assert.InRange(max, 99.0, 100.0);
        // The top 1e-4 of |x| (100 values) lies in the tail, which is uniform on [0, 100] with 1000 values: ≈ 90.
        Assert.InRange(ScaleCalibration.Threshold(h, CalibrationMethod.Percentile), 85.0, 95.0);
        // Entropy gives up the tail for the bulk. Its smallest candidate is 128 bins (one per level) of the
        // 2048 over [0, 100], i.e. 6.27: the bulk sits inside it, so entropy picks (nearly) that one —
        // steps some fifteen times finer than min-max.
        Assert.InRange(ScaleCalibration.Threshold(h, CalibrationMethod.Entropy), 128.5 * h.BinWidth, 10.0);
    }

    [Fact]
    public void Edge_cases_are_defined()
    {
        var zeros = new AbsHistogram(1.0);
        zeros.Add(new float[100]);
        Assert.True(ScaleCalibration.Threshold(zeros, CalibrationMethod.Entropy) > 0);
        var empty = new AbsHistogram(1.0);
        Assert.Throws<ArgumentException>(() => ScaleCalibration.Threshold(empty, CalibrationMethod.MinMax));
        var odd = new AbsHistogram(1.0);
        odd.Add([float.NaN, float.PositiveInfinity, 0.5f, 3f]);
        Assert.Equal(2, odd.NonFinite);
        Assert.Equal(1, odd.Overflow);
        Assert.Equal(3.0, odd.Max);
    }

    [Fact]
    public void A_calibration_cache_parses_back_to_the_same_scales()
    {
        var scales = new Dictionary<string, float> { ["image_f"] = 0.0123f, ["segmentation.layer1.0.conv1.conv"] = 1.5e-3f, ["x"] = float.Epsilon * 3 };
        string text = TensorRtCalibrationCache.Format(scales, "EntropyCalibration2");
        Assert.StartsWith("TRT-100300-EntropyCalibration2\n", text);
        // 0.0123f = 0x3c4985f0: the bits, most significant first.
        Assert.Contains("image_f: 3c4985f0\n", text);
        var (calibrator, version, parsed) = TensorRtCalibrationCache.Parse(text, "t.calib");
        Assert.Equal("EntropyCalibration2", calibrator);
        Assert.Equal("100300", version);
        Assert.Equal(scales, parsed);
        var bad = Assert.Throws<InvalidDataException>(() => TensorRtCalibrationCache.Parse("TRT-1-MinMaxCalibration\nx: 12\n", "bad.calib"));
        Assert.Contains("bad.calib: line 2", bad.Message);
    }
}
