using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.Inference;
using DANNet.Edge.Pipeline;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;

namespace DANNet.Edge.Tests.Pipeline;

[Collection(SharedMemory.RingProcessCollection.Name)]
public sealed class FramePipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Frames_flow_to_the_ring_with_stage_timestamps_and_no_managed_allocation_once_warm()
    {
        using var session = SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1);
        using var ring = MaskRingWriter.Create(Path.Combine(_dir, "ring"), new RingGeometry(3, session.Info.Width, session.Info.Height, 19),
            DANNet.Edge.Cli.PublishTestPatternCommand.Description());
        var options = new SourceOptions { Uri = EdgeDefaults.VideoPath, Realtime = false, Loop = true };
        using var source = FrameSourceFactory.Create(options);
        using var pipeline = new FramePipeline(source, session, ring, options, new ListLogger());

        // One subscription: after 3 warm-up frames a new statistics window starts (on the inference
        // thread, between frames), so the window holds only warm frames.
        var all = pipeline.Frames()
            .Do(t => { if (t.FrameId == 3) pipeline.Stats.Report(MonotonicClock.NowNs, 0); })
            .Take(7).ToList().Wait();
        var warm = all.Take(3).ToList();
        var frames = all.Skip(3).ToList();

        Assert.Equal(0, pipeline.Stats.InferenceAllocatedInWindow);
        Assert.All(frames, t =>
        {
            Assert.True(t.CaptureNs <= t.DequeuedNs && t.DequeuedNs <= t.PreprocessedNs && t.PreprocessedNs <= t.InferredNs && t.InferredNs <= t.PublishedNs);
            Assert.True(t.InferMs > 0);
        });
        Assert.Equal([4UL, 5, 6, 7], frames.Select(f => f.FrameId));
        Assert.Equal(7UL, ring.Published);
        Assert.Equal(3, warm.Count);
    }

    /// <summary>Every frame is recorded into System.Diagnostics.Metrics instruments that any listener (an exporter, this test) can read.</summary>
    [Fact]
    public void Frames_are_recorded_into_metrics_instruments_other_listeners_can_read()
    {
        using var session = SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1);
        using var ring = MaskRingWriter.Create(Path.Combine(_dir, "ring"), new RingGeometry(2, session.Info.Width, session.Info.Height, 19),
            DANNet.Edge.Cli.PublishTestPatternCommand.Description());
        var options = new SourceOptions { Uri = EdgeDefaults.VideoPath, Realtime = false, Loop = true };
        using var source = FrameSourceFactory.Create(options);
        using var pipeline = new FramePipeline(source, session, ring, options, new ListLogger());

        long published = 0, captured = 0;
        var inferMs = new List<double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter == pipeline.Metrics.Meter) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "dannet_edge.frames.published") Interlocked.Add(ref published, value);
            if (instrument.Name == "dannet_edge.frames.captured") Interlocked.Add(ref captured, value);
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => { if (instrument.Name == "dannet_edge.latency.infer") lock (inferMs) inferMs.Add(value); });
        listener.Start();

        var frames = pipeline.Frames().Take(3).ToList().Wait();

        Assert.Equal(3, Interlocked.Read(ref published));
        Assert.True(Interlocked.Read(ref captured) >= 3);
        Assert.Equal(frames.Select(f => f.InferMs), inferMs);
        Assert.Equal(3, pipeline.Stats.Published);
        Assert.Contains(" fps, ", pipeline.Stats.Report(MonotonicClock.NowNs, 0));
    }
}
