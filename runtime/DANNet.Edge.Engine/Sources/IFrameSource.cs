using OpenCvSharp;

namespace DANNet.Edge.Sources;

/// <summary>
/// A stream of BGR frames (like jetson-utils' videoSource). <see cref="Open"/> throws
/// <see cref="FrameSourceException"/> when the source cannot exist as configured; on the frame
/// path, <see cref="Read"/> reports end-of-stream, timeout and fault apart and never throws.
/// </summary>
public interface IFrameSource : IDisposable
{
    /// <summary>What this source reads, for logs (the URI and the back-end).</summary>
    string Description { get; }

    /// <summary>Whether a fault is worth reconnecting for (cameras, network streams) or final (files, folders).</summary>
    bool IsLive { get; }

    /// <summary>Opens (or re-opens) the source.</summary>
    void Open();

    /// <summary>
    /// Reads the next frame into <paramref name="frame"/> (reusing its buffer when the size fits). A frame with a non-null
    /// <paramref name="problem"/> came after damaged input that was skipped (the problem says where and how much).
    /// </summary>
    FrameReadStatus Read(Mat frame, out string? problem);

    /// <summary>The media timestamp of the frame the last <see cref="Read"/> gave (ms into a recording), when the source has one.</summary>
    double? TimestampMs => null;

    /// <summary>The name of the frame the last <see cref="Read"/> gave (an image folder's file name), when frames have names.</summary>
    string? FrameName => null;
}
