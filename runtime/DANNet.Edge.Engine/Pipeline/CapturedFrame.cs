using OpenCvSharp;

namespace DANNet.Edge.Pipeline;

/// <summary>A camera frame in flight: a reusable BGR buffer and when it was captured. Owned by a <see cref="FramePool"/>.</summary>
public sealed class CapturedFrame : IDisposable
{
    public CapturedFrame() => Input = InputArray.Create(Image);

    public Mat Image { get; } = new();

    /// <summary>OpenCV's input wrapper of <see cref="Image"/>, made once (OpenCvSharp allocates one per call otherwise).</summary>
    public InputArray Input { get; }

    /// <summary>Index in the source's stream (0, 1, 2, …).</summary>
    public long Index { get; set; }

    /// <summary>When the capture returned it (monotonic ns).</summary>
    public ulong CaptureNs { get; set; }

    /// <summary>The recording's own timestamp of the frame (ms), when the source has one (NaN otherwise).</summary>
    public double SourceMs { get; set; } = double.NaN;

    /// <summary>The frame's name at its source (an image folder's file name), or null.</summary>
    public string? Name { get; set; }

    public void Dispose()
    {
        Input.Dispose();
        Image.Dispose();
    }
}
