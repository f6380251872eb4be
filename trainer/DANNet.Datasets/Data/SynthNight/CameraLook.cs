using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>
/// How a camera sees daylight: mounting, field of view and colour rendering. The labelled source set
/// and the unlabelled target set use different looks, so that a domain gap exists between them as
/// between Cityscapes (automotive camera behind the windscreen, muted, hood in view) and Dark Zurich
/// (wide-angle action camera, saturated and contrasty, vignetting).
/// </summary>
public sealed record CameraLook(
    string Name, double FocalFactor, double HeightMin, double HeightMax, double Pitch,
    Scalar Gains, double Contrast, double Saturation, double Haze, double Vignette, double BlurSigma, bool EgoHood)
{
    /// <summary>The labelled day source look (Cityscapes-like).</summary>
    public static CameraLook Source { get; } = new("source", 1.08, 1.15, 1.35, 0.03, new Scalar(0.96, 1.03, 0.98), 0.82, 0.72, 0.08, 0.0, 0.7, true);

    /// <summary>The target look shared by day and night (Dark Zurich-like).</summary>
    public static CameraLook Target { get; } = new("target", 0.62, 1.35, 1.6, 0.05, new Scalar(0.9, 1.0, 1.1), 1.18, 1.2, 0.0, 0.38, 0.0, false);
}

/// <summary>
/// The night rendering of one frame: how much light there is, how the camera exposes and develops
/// it, and how noisy and blurred the sensor output is. Sampled per sequence and varied per frame.
/// </summary>
public sealed record NightLook(double Ambient, double Exposure, double Gamma, Scalar Cast, double NoiseShot, double NoiseFloor, double MotionBlurPixels, double BlurAngle, double Bloom)
{
    /// <summary>The fixed look of the night drive video: a typical exposure, sodium-warm, moving fast.</summary>
    public static NightLook Drive(int width) =>
        new(Ambient: 0.02, Exposure: 1.1, Gamma: 1.45, Cast: new Scalar(0.85, 0.95, 1.1), NoiseShot: 0.003, NoiseFloor: 3e-5,
            MotionBlurPixels: width / 640.0 * 4, BlurAngle: 0.05, Bloom: 0.5);

    public static NightLook Sample(StreamRandom rng, int width)
    {
        var warm = rng.Chance(0.6);
        return new NightLook(
            Ambient: rng.Uniform(0.02, 0.045),
            Exposure: rng.Uniform(0.9, 1.7),
            Gamma: rng.Uniform(1.15, 1.5),
            Cast: warm ? new Scalar(rng.Uniform(0.75, 0.9), 0.95, rng.Uniform(1.05, 1.2)) : new Scalar(rng.Uniform(1.03, 1.12), 1.0, rng.Uniform(0.88, 0.96)),
            NoiseShot: rng.Uniform(0.0015, 0.005),
            NoiseFloor: rng.Uniform(1.5e-5, 6e-5),
            MotionBlurPixels: width / 640.0 * rng.Uniform(1, 4),
            BlurAngle: rng.Uniform(-0.3, 0.3),
            Bloom: rng.Uniform(0.35, 0.7));
    }
}
