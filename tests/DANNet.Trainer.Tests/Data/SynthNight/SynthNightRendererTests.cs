using DANNet.Model.Scoring;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;
using DANNet.Trainer.Data.SynthNight;
using OpenCvSharp;
using Xunit.Abstractions;

namespace DANNet.Trainer.Tests.Data.SynthNight;

public sealed class SynthNightRendererTests(ITestOutputHelper output)
{
    private readonly SynthNightRenderer _renderer = new(11, SynthScaleSpec.For(SynthScale.Tiny));

    [Fact]
    public void Day_and_night_of_a_pair_show_the_same_static_layout_unlike_other_places()
    {
        double pairSum = 0, otherSum = 0;
        const int frames = 6;
        for (int k = 0; k < frames; k++)
        {
            var (night, day) = _renderer.Pair(k % 2, k, withTraffic: false);
            var (_, elsewhere) = _renderer.Pair((k + 1) % 2, (k + 3) % 8, withTraffic: false);
            using (night) using (day) using (elsewhere)
            {
                double pair = StaticAgreement(night.LabelIds, day.LabelIds), other = StaticAgreement(night.LabelIds, elsewhere.LabelIds);
                output.WriteLine($"frame {k}: static-label agreement with its day frame {pair:P1}, with a day frame elsewhere {other:P1}");
                Assert.True(pair > 0.7, $"frame {k}: pair agreement only {pair:P1}");
                pairSum += pair; otherSum += other;
            }
        }
        Assert.True(pairSum / frames > otherSum / frames + 0.1, $"pairs {pairSum / frames:P1} vs elsewhere {otherSum / frames:P1}");
    }

    /// <summary>Share of pixels with the same trainId, over pixels that are static in both label maps.</summary>
    private static double StaticAgreement(Mat a, Mat b)
    {
        using var ta = LabelMapping.ToTrainIds(a, "a");
        using var tb = LabelMapping.ToTrainIds(b, "b");
        ta.GetArray(out byte[] x);
        tb.GetArray(out byte[] y);
        long both = 0, same = 0;
        for (int i = 0; i < x.Length; i++)
            if (x[i] < CityscapesClasses.StaticCount && y[i] < CityscapesClasses.StaticCount)
            {
                both++;
                if (x[i] == y[i]) same++;
            }
        return (double)same / both;
    }

    [Fact]
    public void Pairs_are_not_pixel_aligned()
    {
        var (night, day) = _renderer.Pair(0, 2, withTraffic: false);
        using (night) using (day)
        {
            using var diff = new Mat();
            Cv2.Compare(night.LabelIds, day.LabelIds, diff, CmpTypes.NE);
            Assert.True(Cv2.CountNonZero(diff) > 0.02 * diff.Total(), "day and night labels are identical: the camera did not move");
        }
    }

    [Fact]
    public void Sensor_noise_is_present_and_grows_with_the_signal()
    {
        const int w = 128, h = 64;
        var look = new NightLook(Ambient: 1.0, Exposure: 1.0, Gamma: 1.0, Cast: Scalar.All(1), NoiseShot: 0.004, NoiseFloor: 2e-5, MotionBlurPixels: 0, BlurAngle: 0, Bloom: 0);
        Mat Render(ulong seed)
        {
            using var layers = new RenderLayers(w, h);
            layers.Label.SetTo(Scalar.All(LabelIds.Road));
            using (var left = layers.Albedo[new Rect(0, 0, w / 2, h)]) left.SetTo(Scalar.All(200));
            using (var right = layers.Albedo[new Rect(w / 2, 0, w / 2, h)]) right.SetTo(Scalar.All(10));
            return SceneComposer.ComposeNight(layers, CameraLook.Target with { Vignette = 0, Saturation = 1 }, look, new StreamRandom(seed));
        }
        using var a = Render(1);
        using var b = Render(2);
        using var a16 = new Mat(); using var b16 = new Mat(); using var d = new Mat();
        a.ConvertTo(a16, MatType.CV_32FC3); b.ConvertTo(b16, MatType.CV_32FC3);
        Cv2.Subtract(a16, b16, d);
        double Std(Rect r) { using var roi = d[r]; Cv2.MeanStdDev(roi, out _, out var s); return s.Val0; }
        double bright = Std(new Rect(4, 4, w / 2 - 8, h - 8)), dark = Std(new Rect(w / 2 + 4, 4, w / 2 - 8, h - 8));
        output.WriteLine($"noise std (difference of two renders): bright {bright:F2}, dark {dark:F2} grey levels");
        Assert.True(dark > 0.5, $"dark regions have no noise ({dark:F2})");
        Assert.True(bright > 2 * dark, $"noise does not grow with the signal: bright {bright:F2}, dark {dark:F2}");
    }

    [Fact]
    public void Frames_render_the_same_in_any_order()
    {
        using var first = _renderer.Source(0, 3);
        using (_renderer.Source(0, 4)) { }
        using var again = _renderer.Source(0, 3);
        Assert.True(Equal(first.Image, again.Image));
        Assert.True(Equal(first.LabelIds, again.LabelIds));
    }

    private static bool Equal(Mat a, Mat b) =>
        a.Size() == b.Size() && a.Type() == b.Type() && Cv2.Norm(a, b, NormTypes.INF) == 0;
}
