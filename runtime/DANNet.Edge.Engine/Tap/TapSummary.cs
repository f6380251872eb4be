namespace DANNet.Edge.Tap;

/// <summary>What a tap saw: frames read, every kind of refusal, and how often it waited (backed off) for a usable ring.</summary>
public sealed record TapSummary(
    long FramesRead, long FramesSkipped, long Overruns, long ChecksumFailures, long PatternMismatches, long WriterRestarts,
    double MeanPublishToReadMs, double MaxPublishToReadMs, double MeanCaptureToPublishMs, string LastWriterState, long Waits = 0, long InvalidFrames = 0);
