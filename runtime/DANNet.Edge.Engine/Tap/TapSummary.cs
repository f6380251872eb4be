namespace DANNet.Edge.Tap;

/// <summary>What a tap saw: frames read and every kind of refusal.</summary>
public sealed record TapSummary(
    long FramesRead, long FramesSkipped, long Overruns, long ChecksumFailures, long PatternMismatches, long WriterRestarts,
    double MeanPublishToReadMs, double MaxPublishToReadMs, double MeanCaptureToPublishMs, string LastWriterState);
