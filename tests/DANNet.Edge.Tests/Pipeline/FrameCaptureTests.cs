using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.Pipeline;
using DANNet.Edge.Sources;
using Microsoft.Extensions.Logging;
using OpenCvSharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace DANNet.Edge.Tests.Pipeline;

/// <summary>The capture stage's reaction to what a live camera does (no camera here: a scripted source stands in).</summary>
public sealed class FrameCaptureTests
{
    /// <summary>A live source that plays a script of read outcomes, counting opens.</summary>
    private sealed class ScriptedCamera(params FrameReadStatus[] script) : IFrameSource
    {
        private int _next;
        public int Opens { get; private set; }
        public string Description => "scripted camera";
        public bool IsLive => true;
        public void Open() => Opens++;

        public FrameReadStatus Read(Mat frame, out string? problem)
        {
            problem = null;
            var status = _next < script.Length ? script[_next++] : FrameReadStatus.EndOfStream;
            if (status == FrameReadStatus.Frame) frame.Create(4, 4, MatType.CV_8UC3);
            else if (status != FrameReadStatus.EndOfStream) problem = status == FrameReadStatus.Timeout ? "no frame for 5.0 s" : "device unplugged";
            return status;
        }

        public void Dispose() { }
    }

    [Fact]
    public void Timeouts_and_faults_reconnect_with_backoff_and_frames_resume()
    {
        var camera = new ScriptedCamera(FrameReadStatus.Frame, FrameReadStatus.Timeout, FrameReadStatus.Fault, FrameReadStatus.Frame, FrameReadStatus.Frame);
        var log = new ListLogger();
        using var pool = new FramePool();
        var options = new SourceOptions { ReconnectInitialSeconds = 0.01, ReconnectMaxSeconds = 0.02 };
        var indices = FrameCapture.Observe(camera, options, pool, log).Select(f => { long i = f.Index; pool.Return(f); return i; }).ToList().Wait();

        Assert.Equal([0L, 1, 2], indices);
        Assert.Equal(3, camera.Opens);   // the first open and one per failure
        var warnings = log.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Contains(warnings, w => w.Contains("timed out") && w.Contains("no frame for 5.0 s") && w.Contains("reconnecting in 0.0 s (attempt 1)"));
        Assert.Contains(warnings, w => w.Contains("faulted") && w.Contains("device unplugged") && w.Contains("attempt 2"));
        Assert.Contains(log.Entries, e => e.Message.Contains("End of stream after 3 frames"));
    }

    /// <summary>A camera whose read never returns (until the test lets it go), as a wedged driver would.</summary>
    private sealed class WedgedCamera : IFrameSource
    {
        public readonly ManualResetEventSlim Release = new();
        public readonly ManualResetEventSlim Reading = new();
        public string Description => "wedged camera";
        public bool IsLive => true;
        public void Open() { }

        public FrameReadStatus Read(Mat frame, out string? problem)
        {
            problem = null;
            Reading.Set();
            Release.Wait();
            return FrameReadStatus.EndOfStream;
        }

        public void Dispose() { }
    }

    [Fact]
    public async Task Stopping_does_not_wait_forever_for_a_read_stuck_in_the_back_end()
    {
        var camera = new WedgedCamera();
        var log = new ListLogger();
        using var pool = new FramePool();
        var health = new SourceHealth();
        var subscription = FrameCapture.Observe(camera, new SourceOptions { TimeoutSeconds = 0.2 }, pool, log, health: health).Subscribe(_ => { });
        Assert.True(camera.Reading.Wait(TimeSpan.FromSeconds(30)));
        var stop = Task.Run(subscription.Dispose);
        // Bounded by the source's timeout and a 5 s margin; 60 s here is a hang guard, not a timing claim.
        Assert.True(await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(60))) == stop, "disposing waited for the stuck read");
        Assert.True(health.Abandoned);
        Assert.Contains(log.Entries, e => e.Message.Contains("is abandoned"));
        camera.Release.Set();
    }

    [Fact]
    public void A_file_that_faults_ends_the_capture_with_the_error()
    {
        var log = new ListLogger();
        using var pool = new FramePool();
        using var folder = new FaultyFile();
        var ex = Assert.Throws<FrameSourceException>(() => FrameCapture.Observe(folder, new SourceOptions(), pool, log).ToList().Wait());
        Assert.Contains("failed at frame 0", ex.Message);
        Assert.Contains("corrupt", ex.Message);
    }

    private sealed class FaultyFile : IFrameSource
    {
        public string Description => "recorded.mp4";
        public bool IsLive => false;
        public void Open() { }
        public FrameReadStatus Read(Mat frame, out string? problem) { problem = "corrupt packet"; return FrameReadStatus.Fault; }
        public void Dispose() { }
    }
}
