using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>Named SynthNight sizes.</summary>
public enum SynthScale { Tiny, Small, Full }

/// <summary>Image sizes and counts of one SynthNight scale.</summary>
public sealed record SynthScaleSpec(
    SynthScale Scale,
    Size SourceSize, int SourceTrain, int SourceVal,
    Size TargetSize, int Sequences, int FramesPerSequence, int ValImages, int TestImages,
    Size VideoSize, int VideoFrames, double VideoFps)
{
    public int Pairs => Sequences * FramesPerSequence;

    public static SynthScaleSpec For(SynthScale scale) => scale switch
    {
        // Tiny: for tests; every class appears in the 16 source frames (see Traffic.FeaturedRotation).
        SynthScale.Tiny => new(scale, new(256, 128), 16, 4, new(256, 144), 2, 8, 4, 4, new(256, 144), 30, 10),
        // Small: the adaptation benchmark (minutes on a 2-core CPU).
        SynthScale.Small => new(scale, new(1024, 512), 480, 60, new(960, 540), 20, 24, 50, 100, new(640, 360), 300, 15),
        // Full: the sizes and counts of Cityscapes (2975/500) and Dark Zurich (2416 night, 50 val, 151 test).
        SynthScale.Full => new(scale, new(2048, 1024), 2975, 500, new(1920, 1080), 151, 16, 50, 151, new(1280, 720), 900, 15),
        _ => throw new ArgumentOutOfRangeException(nameof(scale), scale, "Scale must be tiny, small or full."),
    };
}
