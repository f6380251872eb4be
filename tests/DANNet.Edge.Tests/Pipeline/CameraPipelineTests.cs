using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.Pipeline;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using DANNet.Model;
using OpenCvSharp;

namespace DANNet.Edge.Tests.Pipeline;

/// <summary>Several cameras through one session: fair turns, and one camera's fault or end never stops the others.</summary>
[Collection(SharedMemory.RingProcessCollection.Name)]
public sealed class CameraPipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-cameras-").FullName;
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        Directory.Delete(_dir, true);
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    private CameraFeed Feed(SegmentationSession session, string name, SourceOptions options) =>
        new(name, Own(FrameSourceFactory.Create(options)), options,
            Own(MaskRingWriter.Create(Path.Combine(_dir, name), TemporaryRing.Geometry(session.Info), TemporaryRing.Describe(session.Info))));

    private static SourceOptions Drive() => new() { Uri = EdgeDefaults.VideoPath, Realtime = false, Loop = true };

    /// <summary>
    /// A frame limit holds however the subscription ends: a subscriber that never stops the pipeline (no Take) still sees exactly the limit
    /// published, while capture goes on; the frames after it are returned to the pool unprocessed (the pipeline disposes cleanly).
    /// </summary>
    [Fact]
    public void The_frame_limit_publishes_exactly_that_many_masks_whatever_the_subscriber_does()
    {
        var session = Own(SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1));
        var feed = Feed(session, "ring", Drive());
        using var pipeline = new CameraPipeline([feed], session, new ListLogger(), frameLimit: 3);
        long captured = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter == pipeline.Metrics.Meter) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "dannet_edge.frames.captured") Interlocked.Add(ref captured, value);
        });
        listener.Start();
        var seen = new List<ulong>();
        using (pipeline.Frames().Subscribe(f => { lock (seen) seen.Add(f.Timings.FrameId); }))
        {
            // Capture keeps delivering: wait until it has captured well past the limit.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (pipeline.Stats.Published < 3 && DateTime.UtcNow < deadline) Thread.Sleep(10);
            long atLimit = Interlocked.Read(ref captured);
            while (Interlocked.Read(ref captured) < atLimit + 5 && DateTime.UtcNow < deadline) Thread.Sleep(10);
            Assert.True(Interlocked.Read(ref captured) >= atLimit + 5, $"capture stopped at {Interlocked.Read(ref captured)} frames");
        }
        Assert.Equal(3UL, feed.Ring.Published);
        lock (seen) Assert.Equal([1UL, 2, 3], seen);
    }

    /// <summary>Two cameras that always have a frame waiting are served strictly in turn: their mask counts never differ by more than one.</summary>
    [Fact]
    public void Cameras_with_frames_waiting_take_strict_turns()
    {
        var session = Own(SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1));
        var feeds = new[] { Feed(session, "left", Drive()), Feed(session, "right", Drive()) };
        using var pipeline = new CameraPipeline(feeds, session, new ListLogger());
        var frames = pipeline.Frames().Take(8).ToList().Wait();
        Assert.Equal(8, frames.Count);
        Assert.Equal(4, frames.Count(f => f.Camera == 0));
        Assert.Equal(4UL, feeds[0].Ring.Published);
        Assert.Equal(4UL, feeds[1].Ring.Published);
        Assert.All(frames.Zip(frames.Skip(1)), p => Assert.NotEqual(p.First.Camera, p.Second.Camera));
        Assert.Equal(4, pipeline.Cameras[1].Published);
    }

    /// <summary>Once warm, serving several cameras allocates nothing managed per frame on the inference thread (as one camera does).</summary>
    [Fact]
    public void Warm_turns_allocate_nothing_per_frame()
    {
        var session = Own(SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1));
        var feeds = new[] { Feed(session, "left", Drive()), Feed(session, "right", Drive()) };
        using var pipeline = new CameraPipeline(feeds, session, new ListLogger());
        // A new statistics window after 4 warm-up masks (on the inference thread, between frames): it holds only warm frames.
        var frames = pipeline.Frames()
            .Do(f => { if (f.Timings.FrameId == 2 && f.Camera == 1) pipeline.Stats.Report(MonotonicClock.NowNs, 0); })
            .Take(10).ToList().Wait();
        Assert.Equal(10, frames.Count);
        Assert.Equal(0, pipeline.Stats.InferenceAllocatedInWindow);
    }

    /// <summary>
    /// Three cameras: a device that does not exist (reconnecting), a recording of three images that ends, a looping drive. The recording's
    /// masks are published and it ends; the missing device is retried and publishes nothing; the drive keeps publishing after both.
    /// </summary>
    [Fact]
    public void One_cameras_fault_or_end_never_stops_the_others()
    {
        string images = TestImages.Folder(_dir);
        var session = Own(SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1));
        var feeds = new[]
        {
            Feed(session, "front", new SourceOptions { Uri = "v4l2:///dev/video-none", ReconnectInitialSeconds = 0.1, ReconnectMaxSeconds = 0.2 }),
            Feed(session, "rear", new SourceOptions { Uri = images, Loop = false, Realtime = false }),
            Feed(session, "side", Drive()),
        };
        var log = new ListLogger();
        using var pipeline = new CameraPipeline(feeds, session, log);
        long sideWhenRearEnded = -1;
        var frames = pipeline.Frames()
            .Do(f => { if (pipeline.Cameras[1].Ended && sideWhenRearEnded < 0) sideWhenRearEnded = pipeline.Cameras[2].Published; })
            .TakeWhile(_ => sideWhenRearEnded < 0 || pipeline.Cameras[2].Published < sideWhenRearEnded + 5)
            .ToList().Wait();
        Assert.True(pipeline.Cameras[1].Ended && pipeline.Cameras[1].Error is null);
        Assert.InRange(pipeline.Cameras[1].Published, 1, 3);
        Assert.Equal(0, pipeline.Cameras[0].Published);
        Assert.False(pipeline.Cameras[0].Ended);
        Assert.Equal(SourceState.Reconnecting, pipeline.Cameras[0].Health.State);
        Assert.True(pipeline.Cameras[2].Published >= sideWhenRearEnded + 5 - 1, $"side published {pipeline.Cameras[2].Published}");
        Assert.Equal((ulong)pipeline.Cameras[2].Published, feeds[2].Ring.Published);
        Assert.DoesNotContain(frames, f => f.Camera == 0);
        lock (log.Entries) Assert.Contains(log.Entries, e => e.Message.Contains("Camera rear ended; the other cameras go on", StringComparison.Ordinal));
    }

    /// <summary>bench --cameras: every counted mask belongs to a camera, its latencies are that camera's, and turns keep the cameras even.</summary>
    [Fact]
    public void The_camera_bench_counts_every_mask_once_and_measures_the_spread()
    {
        var result = DANNet.Edge.Bench.CameraBench.Run(EdgeDefaults.ModelPath, [EdgeDefaults.VideoPath], new ModelOptions { Providers = ["cpu"], Threads = 1 },
            cameras: 2, masks: 6, warmup: 2);
        Assert.Equal(6, result.PerCamera.Sum(c => c.Masks));
        Assert.All(result.PerCamera, c => Assert.Equal(c.Masks, c.CaptureToPublish.Count));
        long most = result.PerCamera.Max(c => c.Masks), fewest = result.PerCamera.Min(c => c.Masks);
        Assert.Equal(Math.Round((most - fewest) / 3.0, 4), result.FairnessSpread);
        Assert.True(most - fewest <= 1, $"turns gave {most} and {fewest} masks");
        Assert.Equal(Math.Round(6 / result.Seconds, 2), result.MasksPerSecond, 1);
        var text = new StringWriter();
        DANNet.Edge.Bench.CameraBench.Print(result, text);
        Assert.Contains("2 camera(s), turns (batch 1)", text.ToString());
        Assert.Contains("camera1", text.ToString());
    }

    private string BatchModel(int batch)
    {
        string path = Path.Combine(_dir, $"tiny-b{batch}.onnx");
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(Calibration.QdqWriterTests.TinyNet(batch)));
        return path;
    }

    /// <summary>
    /// A model of batch 2 and two cameras: every run takes the newest frame of both, so each inference publishes one mask per camera
    /// (the two share their inference timestamps), each the mask the session computed for that camera's image.
    /// </summary>
    [Fact]
    public void With_a_batch_model_the_cameras_run_together_one_mask_each_per_inference()
    {
        var session = Own(SegmentationSession.OpenCpu(BatchModel(2), threads: 1));
        Assert.Equal(2, session.Info.Batch);
        var feeds = new[] { Feed(session, "left", Drive()), Feed(session, "right", Drive()) };
        using var pipeline = new CameraPipeline(feeds, session, new ListLogger(), batchWindow: TimeSpan.FromSeconds(5));
        var frames = pipeline.Frames().Take(8).ToList().Wait();
        Assert.Equal(2, pipeline.Batch);
        Assert.Equal(4UL, feeds[0].Ring.Published);
        Assert.Equal(4UL, feeds[1].Ring.Published);
        foreach (var run in frames.Chunk(2))
        {
            Assert.Equal([0, 1], run.Select(f => f.Camera).Order());
            Assert.Equal(run[0].Timings.InferredNs, run[1].Timings.InferredNs);
        }
    }

    /// <summary>A camera that never delivers does not hold a batch up beyond the window: the other camera's frames run in partial batches.</summary>
    [Fact]
    public void A_silent_camera_does_not_hold_up_a_batch_beyond_the_window()
    {
        var session = Own(SegmentationSession.OpenCpu(BatchModel(2), threads: 1));
        var feeds = new[]
        {
            Feed(session, "front", new SourceOptions { Uri = "v4l2:///dev/video-none", ReconnectInitialSeconds = 0.1, ReconnectMaxSeconds = 0.2 }),
            Feed(session, "side", Drive()),
        };
        using var pipeline = new CameraPipeline(feeds, session, new ListLogger(), batchWindow: TimeSpan.FromMilliseconds(20));
        var frames = pipeline.Frames().Take(5).ToList().Wait();
        Assert.All(frames, f => Assert.Equal(1, f.Camera));
        Assert.Equal(5UL, feeds[1].Ring.Published);
        Assert.Equal(0UL, feeds[0].Ring.Published);
    }
}
