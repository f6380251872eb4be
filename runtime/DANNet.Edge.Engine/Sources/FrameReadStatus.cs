namespace DANNet.Edge.Sources;

/// <summary>What one read of a frame source gave.</summary>
public enum FrameReadStatus
{
    /// <summary>A frame.</summary>
    Frame,

    /// <summary>The stream ended normally (a file's last frame was read; a folder's last image).</summary>
    EndOfStream,

    /// <summary>No frame within the timeout (a camera stalled, a network stream starved).</summary>
    Timeout,

    /// <summary>The source failed (device unplugged, connection lost, decode error).</summary>
    Fault,
}
