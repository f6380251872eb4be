namespace DANNet.Edge.SharedMemory;

/// <summary>The outcome of one read of the ring.</summary>
public enum ReadStatus
{
    /// <summary>A complete, verified frame was copied out.</summary>
    Frame,

    /// <summary>The writer has not published anything yet.</summary>
    NoFrameYet,

    /// <summary>The latest frame is the one returned last time.</summary>
    NoNewFrame,

    /// <summary>The slot was rewritten while it was being copied (the reader fell N frames behind); the copy was discarded.</summary>
    Overrun,

    /// <summary>The copied mask does not match its CRC-32; the copy was discarded.</summary>
    ChecksumMismatch,

    /// <summary>The mask holds values that are no class (≥ class_count and not 255): the frame is damage and was discarded.</summary>
    InvalidValues,

    /// <summary>A new writer generation took over: re-open the ring.</summary>
    WriterRestarted,

    /// <summary>The file shrank under the reader (truncated) or its header is no longer a ring's: re-open the path, or wait for a writer.</summary>
    Damaged,
}

/// <summary>Whether anyone is writing the ring.</summary>
public enum WriterState
{
    /// <summary>The writer's process exists and its heartbeat is fresh.</summary>
    Alive,

    /// <summary>The writer shut down cleanly (writer pid 0).</summary>
    Stopped,

    /// <summary>The heartbeat is older than the timeout, or the writer's process is gone.</summary>
    Dead,
}

/// <summary>The slot header of a frame that was read.</summary>
public readonly record struct MaskFrame(ulong FrameId, ulong CaptureNs, ulong PublishNs, uint Checksum);
