using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>
/// Turns <see cref="RenderLayers"/> into the 8-bit BGR image a camera would deliver, by day or by
/// night. Night is rendered, not darkened: surfaces are lit only by ambient sky glow and the pools
/// of street lamps and headlights; windows, lamps and vehicle lights glow and bloom; light cones
/// show in the haze; then the camera exposes, develops (gamma crushes the shadows towards black,
/// the white balance leaves a colour cast), smears with motion and adds signal-dependent noise.
/// </summary>
public static class SceneComposer
{
    public static Mat ComposeDay(RenderLayers layers, CameraLook look, StreamRandom rng)
    {
        using var img = SurfaceTexture(layers, rng);
        ApplyLook(img, look);
        AddSensorNoise(img, rng, shot: 0.0004, floor: 4e-6);
        return ToBytes(img);
    }

    public static Mat ComposeNight(RenderLayers layers, CameraLook look, NightLook night, StreamRandom rng, Action<string, Mat>? stage = null)
    {
        int w = layers.Width, h = layers.Height;
        var full = new Size(w, h);
        using var img = SurfaceTexture(layers, rng);

        // Light falling on surfaces: ambient sky glow plus lamp and headlight pools.
        using var light = Smooth(layers.LightPools, full, Math.Max(1.0, w / 400.0));
        Cv2.Add(light, Scalar.All(night.Ambient), light);
        Cv2.Multiply(img, light, img);

        // The night sky: near black at the zenith, city glow towards the horizon.
        using var skyMask = new Mat();
        Cv2.Compare(layers.Label, Scalar.All(LabelIds.Sky), skyMask, CmpTypes.EQ);
        using var sky = NightSky(w, h, rng);
        sky.CopyTo(img, skyMask);
        stage?.Invoke("lit by lamps and headlights", img);

        // Things that glow, their bloom, and light scattered in the air.
        Cv2.Add(img, layers.Emissive, img);
        using (var emissiveSmall = new Mat())
        {
            Cv2.Resize(layers.Emissive, emissiveSmall, layers.LightPools.Size(), 0, 0, InterpolationFlags.Area);
            using var bloom = Smooth(emissiveSmall, full, Math.Max(1.5, w / 160.0));
            Cv2.ScaleAdd(bloom, night.Bloom, img, img);
            using var bloomWide = Smooth(emissiveSmall, full, Math.Max(3.0, w / 50.0));
            Cv2.ScaleAdd(bloomWide, night.Bloom * 0.5, img, img);
        }
        using (var haze = Smooth(layers.Haze, full, Math.Max(1.5, w / 150.0)))
            Cv2.Add(img, haze, img);
        stage?.Invoke("+ glow, bloom, light cones", img);

        // Exposure and white balance, motion blur, development curve, sensor noise.
        Cv2.Multiply(img, new Scalar(night.Cast.Val0 * night.Exposure, night.Cast.Val1 * night.Exposure, night.Cast.Val2 * night.Exposure), img);
        MotionBlur(img, night.MotionBlurPixels, night.BlurAngle);
        Cv2.Min(img, Scalar.All(1.0), img);
        Cv2.Max(img, Scalar.All(0.0), img);
        Cv2.Pow(img, night.Gamma, img);
        ApplyLook(img, look with { Contrast = 1.0, Saturation = look.Saturation * 0.85, Gains = Scalar.All(1) });
        stage?.Invoke("exposure, cast, motion blur, gamma", img);
        AddSensorNoise(img, rng, night.NoiseShot, night.NoiseFloor);
        return ToBytes(img);
    }

    /// <summary>Albedo as float 0..1 with a procedural surface texture (grime, paint, weathering).</summary>
    private static Mat SurfaceTexture(RenderLayers layers, StreamRandom rng)
    {
        var img = new Mat();
        layers.Albedo.ConvertTo(img, MatType.CV_32FC3, 1.0 / 255);
        using var tex = new Mat(layers.Height, layers.Width, MatType.CV_32FC1, Scalar.All(1.0));
        foreach (var (cell, amp) in (ReadOnlySpan<(int, double)>)[(48, 0.045), (12, 0.035), (3, 0.03)])
        {
            using var noise = NoiseGrid(rng, Math.Max(2, layers.Width / cell), Math.Max(2, layers.Height / cell));
            using var up = new Mat();
            Cv2.Resize(noise, up, new Size(layers.Width, layers.Height), 0, 0, InterpolationFlags.Cubic);
            Cv2.ScaleAdd(up, amp, tex, tex);
        }
        using var tex3 = new Mat();
        Cv2.Merge([tex, tex, tex], tex3);
        Cv2.Multiply(img, tex3, img);
        return img;
    }

    private static unsafe Mat NoiseGrid(StreamRandom rng, int w, int h)
    {
        var m = new Mat(h, w, MatType.CV_32FC1);
        rng.FillNormal(new Span<float>((void*)m.DataPointer, w * h));
        return m;
    }

    private static Mat Smooth(Mat small, Size full, double sigma)
    {
        using var blurred = new Mat();
        Cv2.GaussianBlur(small, blurred, new Size(0, 0), sigma);
        var up = new Mat();
        Cv2.Resize(blurred, up, full, 0, 0, InterpolationFlags.Linear);
        return up;
    }

    private static Mat NightSky(int w, int h, StreamRandom rng)
    {
        var zenith = new Scalar(0.025, 0.012, 0.008);
        var glow = new Scalar(rng.Uniform(0.03, 0.06), rng.Uniform(0.05, 0.09), rng.Uniform(0.08, 0.14));
        return Gradients.Vertical(w, h, MatType.CV_32FC3, zenith, glow, h * 0.55, 2.0);
    }

    /// <summary>
    /// Camera shake and ego-motion smear: a box blur of <paramref name="length"/> pixels along a mostly
    /// horizontal direction (its vertical extent follows the angle). A box costs the same for any length.
    /// </summary>
    private static void MotionBlur(Mat img, double length, double angle)
    {
        int kx = (int)Math.Round(length * Math.Abs(Math.Cos(angle))), ky = (int)Math.Round(length * Math.Abs(Math.Sin(angle)));
        if (kx < 2 && ky < 2) return;
        Cv2.Blur(img, img, new Size(Math.Max(1, kx), Math.Max(1, ky)), borderType: BorderTypes.Reflect);
    }

    /// <summary>Colour gains, contrast, saturation, haze and vignetting of a camera look (in place, float 0..1).</summary>
    private static void ApplyLook(Mat img, CameraLook look)
    {
        Cv2.Multiply(img, look.Gains, img);
        if (look.Saturation != 1.0)
        {
            using var grey = new Mat();
            using var grey3 = new Mat();
            Cv2.CvtColor(img, grey, ColorConversionCodes.BGR2GRAY);
            Cv2.CvtColor(grey, grey3, ColorConversionCodes.GRAY2BGR);
            Cv2.AddWeighted(img, look.Saturation, grey3, 1 - look.Saturation, 0, img);
        }
        if (look.Contrast != 1.0)
            img.ConvertTo(img, -1, look.Contrast, 0.5 * (1 - look.Contrast));
        if (look.Haze > 0)
            img.ConvertTo(img, -1, 1 - look.Haze, look.Haze * 0.75);
        if (look.Vignette > 0)
        {
            using var v = Vignette(img.Width, img.Height, look.Vignette);
            Cv2.Multiply(img, v, img);
        }
        if (look.BlurSigma > 0)
            Cv2.GaussianBlur(img, img, new Size(0, 0), look.BlurSigma * img.Width / 1024.0 + 0.3);
    }

    private static unsafe Mat Vignette(int w, int h, double strength)
    {
        var v = new Mat(h, w, MatType.CV_32FC3);
        float* p = (float*)v.DataPointer;
        double cx = w / 2.0, cy = h / 2.0, norm = 1.0 / (cx * cx + cy * cy);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double r2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) * norm;
                float f = (float)(1 - strength * r2 * r2);
                long i = ((long)y * w + x) * 3;
                p[i] = f; p[i + 1] = f; p[i + 2] = f;
            }
        return v;
    }

    /// <summary>
    /// Signal-dependent (shot) plus signal-independent (read) noise: σ² = shot·v + floor, per channel.
    /// Standard normal samples come from a fixed table indexed by the frame's random stream (three
    /// 16-bit indices per 64-bit draw): as deterministic as drawing them, and several times faster.
    /// </summary>
    private static unsafe void AddSensorNoise(Mat img, StreamRandom rng, double shot, double floor)
    {
        long n = (long)img.Rows * img.Cols * 3;
        float* p = (float*)img.DataPointer;
        float[] table = NormalTable.Value;
        float s = (float)shot, f = (float)floor;
        for (long i = 0; i < n; i += 3)
        {
            ulong bits = rng.NextUInt64();
            for (int c = 0; c < 3 && i + c < n; c++)
            {
                float v = Math.Max(0f, p[i + c]);
                p[i + c] = v + MathF.Sqrt(s * v + f) * table[(int)(bits >> (16 * c)) & 0xFFFF];
            }
        }
    }

    private static readonly Lazy<float[]> NormalTable = new(() =>
    {
        var table = new float[1 << 16];
        new StreamRandom(0x5EED_0F_D1CE).FillNormal(table);
        return table;
    });

    private static Mat ToBytes(Mat img)
    {
        var bytes = new Mat();
        img.ConvertTo(bytes, MatType.CV_8UC3, 255.0);
        return bytes;
    }
}
