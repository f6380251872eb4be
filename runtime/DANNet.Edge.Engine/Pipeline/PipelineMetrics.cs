using System.Diagnostics.Metrics;

namespace DANNet.Edge.Pipeline;

/// <summary>
/// The pipeline's instruments (System.Diagnostics.Metrics), recorded per frame without allocating:
/// frames published and dropped, each stage's latency, and the managed bytes each thread allocated.
/// Consumers listen to <see cref="Meter"/> — the daemon's periodic log line
/// (<see cref="PipelineStats"/>), a test, an exporter such as Prometheus's or
/// <c>dotnet-counters</c> (meter name <see cref="MeterName"/>).
/// </summary>
public sealed class PipelineMetrics : IDisposable
{
    public const string MeterName = "DANNet.Edge.Pipeline";

    public PipelineMetrics()
    {
        Meter = new Meter(MeterName);
        Published = Meter.CreateCounter<long>("dannet_edge.frames.published", "{frame}", "Masks published to the ring.");
        Dropped = Meter.CreateCounter<long>("dannet_edge.frames.dropped", "{frame}", "Frames replaced by a newer one before inference took them.");
        CaptureToPublish = Latency("capture_to_publish", "From the camera read returning to the mask being readable.");
        Queue = Latency("queue", "Waiting for the inference thread.");
        Preprocess = Latency("preprocess", "Resizing the frame into the model input.");
        Infer = Latency("infer", "ONNX Runtime writing the mask into the ring slot.");
        Publish = Latency("publish", "Committing the slot for readers.");
        InferenceAllocated = Meter.CreateCounter<long>("dannet_edge.allocated.inference", "By", "Managed bytes the inference thread allocated for published frames.");
        CaptureAllocated = Meter.CreateCounter<long>("dannet_edge.allocated.capture", "By", "Managed bytes the capture thread allocated for captured frames.");
        CapturedFrames = Meter.CreateCounter<long>("dannet_edge.frames.captured", "{frame}", "Frames the capture thread delivered.");
    }

    public Meter Meter { get; }
    public Counter<long> Published { get; }
    public Counter<long> Dropped { get; }
    public Histogram<double> CaptureToPublish { get; }
    public Histogram<double> Queue { get; }
    public Histogram<double> Preprocess { get; }
    public Histogram<double> Infer { get; }
    public Histogram<double> Publish { get; }
    public Counter<long> InferenceAllocated { get; }
    public Counter<long> CaptureAllocated { get; }
    public Counter<long> CapturedFrames { get; }

    /// <summary>Records a published frame: its stage latencies and what the inference thread allocated for it.</summary>
    public void RecordPublished(in FrameTimings t, long allocatedBytes)
    {
        CaptureToPublish.Record(t.TotalMs);
        Queue.Record(t.QueueMs);
        Preprocess.Record(t.PreprocessMs);
        Infer.Record(t.InferMs);
        Publish.Record(t.PublishMs);
        InferenceAllocated.Add(allocatedBytes);
        Published.Add(1);
    }

    /// <summary>Records a captured frame and what the capture thread allocated for it.</summary>
    public void RecordCaptured(long allocatedBytes)
    {
        CaptureAllocated.Add(allocatedBytes);
        CapturedFrames.Add(1);
    }

    private Histogram<double> Latency(string stage, string description) =>
        Meter.CreateHistogram<double>($"dannet_edge.latency.{stage}", "ms", description);

    public void Dispose() => Meter.Dispose();
}
