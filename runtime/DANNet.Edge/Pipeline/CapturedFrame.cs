using OpenCvSharp;

namespace DANNet.Edge.Pipeline;

/// <summary>A camera frame in flight: a reusable BGR buffer and when it was captured. Owned by a <see cref="FramePool"/>.</summary>
public sealed class CapturedFrame : IDisposable
{
    public Mat Image { get; } = new();

    /// <summary>Index in the source's stream (0, 1, 2, …).</summary>
    public long Index { get; set; }

    /// <summary>When the capture returned it (monotonic ns).</summary>
    public ulong CaptureNs { get; set; }

    public void Dispose() => Image.Dispose();
}
