namespace DANNet.Edge.Pipeline;

/// <summary>Per-stage timestamps (monotonic ns) of one published frame, carried through the pipeline.</summary>
public readonly record struct FrameTimings(long SourceIndex, ulong FrameId, ulong CaptureNs, ulong DequeuedNs, ulong PreprocessedNs, ulong InferredNs, ulong PublishedNs,
    double SourceMs = double.NaN)
{
    public double QueueMs => (DequeuedNs - CaptureNs) / 1e6;
    public double PreprocessMs => (PreprocessedNs - DequeuedNs) / 1e6;
    public double InferMs => (InferredNs - PreprocessedNs) / 1e6;
    public double PublishMs => (PublishedNs - InferredNs) / 1e6;
    public double TotalMs => (PublishedNs - CaptureNs) / 1e6;
}
