namespace DANNet.Edge.Sources;

/// <summary>A frame source that cannot be opened as configured; the message names the URI and what to do.</summary>
public sealed class FrameSourceException(string message, Exception? inner = null) : DANNet.Edge.Contracts.FixableException(message, inner);
