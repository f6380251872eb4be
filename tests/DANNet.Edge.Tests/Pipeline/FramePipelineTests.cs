using DANNet.Model;
using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.Pipeline;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;

namespace DANNet.Edge.Tests.Pipeline;

[Collection(SharedMemory.RingProcessCollection.Name)]
public sealed class FramePipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>The embedded model on the embedded night drive (looping, unpaced) into a ring of <c>slots</c> slots; disposed in reverse order.</summary>
    private sealed class Rig : IDisposable
    {
        public Rig(string ringPath, int slots)
        {
            Session = SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1);
            Ring = MaskRingWriter.Create(ringPath, new RingGeometry(slots, Session.Info.Width, Session.Info.Height, 19), DANNet.Edge.Tap.TestPattern.Description());
            var options = new SourceOptions { Uri = EdgeDefaults.VideoPath, Realtime = false, Loop = true };
            Source = FrameSourceFactory.Create(options);
            Pipeline = new FramePipeline(Source, Session, Ring, options, new ListLogger());
        }

        public SegmentationSession Session { get; }
        public MaskRingWriter Ring { get; }
        public IFrameSource Source { get; }
        public FramePipeline Pipeline { get; }

        private bool _disposed;

        /// <summary>Waits for the pipeline to stop, then frees everything; a second call does nothing.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Pipeline.Dispose();
            Source.Dispose();
            Ring.Dispose();
            Session.Dispose();
        }
    }

    [Fact]
    public void Frames_flow_to_the_ring_with_stage_timestamps_and_no_managed_allocation_once_warm()
    {
        using var rig = new Rig(Path.Combine(_dir, "ring"), slots: 3);
        var (ring, pipeline) = (rig.Ring, rig.Pipeline);

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
        using var rig = new Rig(Path.Combine(_dir, "ring"), slots: 2);
        var pipeline = rig.Pipeline;

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
        rig.Dispose(); // the pipeline stopped: nothing more is recorded

        // Rx's Take ends the subscription after the third mask; under load a frame already taken by the inference thread may still
        // be published first. Whatever the count, the instruments hold exactly what the pipeline published, in order.
        long count = Interlocked.Read(ref published);
        Assert.True(count >= 3, $"{count} published");
        Assert.Equal(pipeline.Stats.Published, count);
        Assert.True(Interlocked.Read(ref captured) >= count);
        Assert.Equal(count, inferMs.Count);
        Assert.Equal(frames.Select(f => f.InferMs), inferMs.Take(3));
        Assert.Contains(" fps, ", pipeline.Stats.Report(MonotonicClock.NowNs, 0));
    }
}
