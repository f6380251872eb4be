using System.Reactive.Disposables;
using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.Contracts;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using DANNet.Model;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace DANNet.Edge.Pipeline;

/// <summary>One camera of a <see cref="CameraPipeline"/>: its name, its source and options, and the ring its masks go to.</summary>
public sealed record CameraFeed(string Name, IFrameSource Source, SourceOptions Options, MaskRingWriter Ring);

/// <summary>A published mask: which camera, and its stage timestamps.</summary>
public readonly record struct CameraFrame(int Camera, FrameTimings Timings);

/// <summary>What one camera of a running <see cref="CameraPipeline"/> is doing.</summary>
public sealed class CameraStatus(string name)
{
    private long _published, _dropped, _lastPublishNs;
    private volatile bool _ended;
    private volatile Exception? _error;

    public string Name { get; } = name;

    /// <summary>The capture stage's state (reading, reconnecting, ended) and its counters.</summary>
    public SourceHealth Health { get; } = new();

    /// <summary>Masks published from this camera.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Frames of this camera replaced by a newer one of the same camera before inference took them.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>When this camera's last mask was published (monotonic ns; 0: none yet).</summary>
    public long LastPublishNs => Interlocked.Read(ref _lastPublishNs);

    /// <summary>Whether its capture has ended (end of stream, or a fault that is not retried).</summary>
    public bool Ended => _ended;

    /// <summary>The fault that ended it, if one did.</summary>
    public Exception? Error => _error;

    internal void CountPublished(ulong nowNs)
    {
        Interlocked.Increment(ref _published);
        Interlocked.Exchange(ref _lastPublishNs, (long)nowNs);
    }

    internal void CountDropped() => Interlocked.Increment(ref _dropped);

    internal void End(Exception? error)
    {
        _error = error;
        _ended = true;
    }
}

/// <summary>
/// Several cameras through one model: each camera's capture runs on its own thread into its own one-frame slot (the newest frame
/// wins, per camera, every replaced frame counted for that camera), and one inference thread takes the cameras' frames in turn —
/// round robin from the camera after the last one served, so no camera starves — through the session into that camera's ring. A
/// camera that fails, hangs or reconnects is that camera's business: the others keep publishing. The pipeline completes when every
/// camera has ended (with the first camera's error when all of them failed). One camera is the daemon's classic configuration.
/// Per frame it allocates nothing managed, as <see cref="FramePipeline"/>.
/// </summary>
public sealed class CameraPipeline : IDisposable
{
    private readonly IReadOnlyList<CameraFeed> _cameras;
    private readonly ILogger _log;
    private readonly FramePool[] _pools;
    private readonly FrameStages[] _stages;
    private readonly SegmentationSession _session;
    private readonly ModelInput[] _slotInputs;
    private readonly TimeSpan _batchWindow;
    private readonly int[] _batchCameras;
    private readonly CapturedFrame[] _batchFrames;
    private readonly long _frameLimit;
    private long _processed;
    private int _running;

    /// <summary>Wires every camera through <paramref name="session"/>; dispose the pipeline before the rings and the session.</summary>
    /// <param name="frameLimit">The most masks published over all cameras (0: no limit); frames after it are returned unprocessed.</param>
    /// <param name="batchWindow">
    /// With a model of batch B &gt; 1: how long to wait, once a frame waits, for the other cameras' frames before running a partial batch.
    /// </param>
    public CameraPipeline(IReadOnlyList<CameraFeed> cameras, SegmentationSession session, ILogger log, InputResize? resize = null, long frameLimit = 0,
        TimeSpan? batchWindow = null)
    {
        if (cameras.Count == 0) throw new ArgumentException("A pipeline needs at least one camera.", nameof(cameras));
        if (frameLimit < 0) throw new ArgumentOutOfRangeException(nameof(frameLimit), "A frame limit is 0 (none) or more.");
        _cameras = cameras;
        _log = log;
        _frameLimit = frameLimit;
        Stats = new PipelineStats(Metrics);
        Cameras = cameras.Select(c => new CameraStatus(c.Name)).ToArray();
        _pools = cameras.Select(_ => new FramePool(3)).ToArray();
        _session = session;
        _batchWindow = batchWindow ?? TimeSpan.FromMilliseconds(10);
        int batch = session.Info.Batch;
        _batchCameras = new int[batch];
        _batchFrames = new CapturedFrame[batch];
        // Batch 1: each camera's masks go straight into its ring's slots (FrameStages). Batch B: B inputs, one per image of the batch,
        // and each mask copied from the session's output into its camera's ring.
        _stages = batch == 1 ? [.. cameras.Select(c => new FrameStages(session, c.Ring, resize))] : [];
        _slotInputs = batch == 1 ? [] : [.. Enumerable.Range(0, batch).Select(k => new ModelInput(session, resize, k))];
    }

    /// <summary>Images per run: 1 (cameras take turns) or the model's batch (the newest frame of each camera run together).</summary>
    public int Batch => _session.Info.Batch;

    /// <summary>The instruments every frame of every camera is recorded into.</summary>
    public PipelineMetrics Metrics { get; } = new();

    /// <summary>The windowed statistics over all cameras (the daemon's log line).</summary>
    public PipelineStats Stats { get; }

    /// <summary>Each camera's state, in the order given.</summary>
    public IReadOnlyList<CameraStatus> Cameras { get; }

    /// <summary>The running pipeline: subscribe to start every camera; dispose the subscription to stop them all. One subscription at a time.</summary>
    public IObservable<CameraFrame> Frames() =>
        Observable.Create<CameraFrame>(observer =>
        {
            if (Interlocked.Exchange(ref _running, 1) == 1)
                throw new InvalidOperationException("The pipeline is already running (or still stopping): one subscription at a time.");
            int n = _cameras.Count;
            var pending = new CapturedFrame?[n];
            var signal = new AutoResetEvent(false);
            var stop = new CancellationTokenSource();
            var captures = new CompositeDisposable();
            var consumer = new Thread(() => Consume(observer, pending, signal, stop.Token)) { IsBackground = true, Name = "dannet-edge inference" };
            for (int i = 0; i < n; i++)
            {
                int c = i;
                var status = Cameras[c];
                captures.Add(FrameCapture.Observe(_cameras[c].Source, _cameras[c].Options, _pools[c], _log, Metrics, status.Health).Subscribe(
                    frame =>
                    {
                        if (Interlocked.Exchange(ref pending[c], frame) is { } replaced)
                        {
                            status.CountDropped();
                            Metrics.Dropped.Add(1);
                            _cameras[c].Ring.CountDropped(1);
                            _pools[c].Return(replaced);
                        }
                        signal.Set();
                    },
                    error =>
                    {
                        if (n > 1) _log.LogError("Camera {Camera} stopped: {Message}; the other cameras go on", status.Name, error.Message);
                        status.End(error);
                        signal.Set();
                    },
                    () =>
                    {
                        if (n > 1) _log.LogWarning("Camera {Camera} ended; the other cameras go on", status.Name);
                        status.End(null);
                        signal.Set();
                    }));
            }
            consumer.Start();
            return Disposable.Create(() =>
            {
                stop.Cancel();
                signal.Set();
                captures.Dispose();
                if (Thread.CurrentThread != consumer) consumer.Join();
                for (int c = 0; c < n; c++)
                    if (Interlocked.Exchange(ref pending[c], null) is { } left) _pools[c].Return(left);
                signal.Dispose();
                stop.Dispose();
                Volatile.Write(ref _running, 0);
            });
        });

    /// <summary>The inference thread: the cameras' waiting frames in turn; completes once every camera has ended and nothing waits.</summary>
    private void Consume(IObserver<CameraFrame> observer, CapturedFrame?[] pending, AutoResetEvent signal, CancellationToken stop)
    {
        int next = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (Batch > 1 && Pending(pending) > 0)
                {
                    GatherAndRun(observer, pending, signal, ref next, stop);
                    continue;
                }
                if (Batch == 1 && TakeNext(pending, ref next) is { } taken)
                {
                    if (Process(taken.Camera, taken.Frame) is { } timings) observer.OnNext(new CameraFrame(taken.Camera, timings));
                    continue;
                }
                // Ended flags are written after a camera's last frame is put down: read them, then look once more.
                if (RunningCameras() == 0)
                {
                    if (TakeNext(pending, ref next) is not null)
                    {
                        signal.Set();
                        continue;
                    }
                    if (AllFailed()) observer.OnError(Cameras[0].Error!);
                    else observer.OnCompleted();
                    return;
                }
                signal.WaitOne();
            }
        }
        catch (Exception ex)
        {
            observer.OnError(ex);
        }
    }

    /// <summary>How many cameras have a frame waiting.</summary>
    private static int Pending(CapturedFrame?[] pending)
    {
        int n = 0;
        for (int i = 0; i < pending.Length; i++)
            if (Volatile.Read(ref pending[i]) is not null) n++;
        return n;
    }

    /// <summary>
    /// Batch mode: waits (at most the batch window) until as many cameras as the batch holds — or every camera still running — have a
    /// frame, takes up to a batch of them in turn, and runs them together: one inference, each mask published into its camera's ring.
    /// </summary>
    private void GatherAndRun(IObserver<CameraFrame> observer, CapturedFrame?[] pending, AutoResetEvent signal, ref int next, CancellationToken stop)
    {
        long deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(_batchWindow.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        while (!stop.IsCancellationRequested && Pending(pending) < Math.Min(Batch, RunningCameras()))
        {
            long left = deadline - System.Diagnostics.Stopwatch.GetTimestamp();
            if (left <= 0) break;
            signal.WaitOne(TimeSpan.FromSeconds((double)left / System.Diagnostics.Stopwatch.Frequency));
        }
        int count = 0;
        while (count < Batch && TakeNext(pending, ref next) is { } taken)
        {
            _batchCameras[count] = taken.Camera;
            _batchFrames[count++] = taken.Frame;
        }
        if (count == 0) return;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            if (_frameLimit > 0) count = (int)Math.Min(count, Math.Max(0, _frameLimit - _processed));
            if (count == 0) return;
            ulong dequeued = MonotonicClock.NowNs;
            for (int k = 0; k < count; k++) _slotInputs[k].Load(_batchFrames[k].Image, _batchFrames[k].Input);
            ulong preprocessed = MonotonicClock.NowNs;
            _session.Run();
            ulong inferred = MonotonicClock.NowNs;
            for (int k = 0; k < count; k++)
            {
                int camera = _batchCameras[k];
                var frame = _batchFrames[k];
                ulong frameId = _cameras[camera].Ring.Publish(_session.MaskOf(k), frame.CaptureNs);
                ulong published = MonotonicClock.NowNs;
                _processed++;
                var timings = new FrameTimings(frame.Index, frameId, frame.CaptureNs, dequeued, preprocessed, inferred, published, frame.SourceMs);
                Metrics.RecordPublished(timings, k == 0 ? GC.GetAllocatedBytesForCurrentThread() - allocatedBefore : 0);
                Cameras[camera].CountPublished(published);
                observer.OnNext(new CameraFrame(camera, timings));
            }
        }
        finally
        {
            // Every frame taken goes back to its camera's pool, published or not (the frame limit).
            for (int k = 0; k < _batchFrames.Length && _batchFrames[k] is not null; k++)
            {
                _pools[_batchCameras[k]].Return(_batchFrames[k]);
                _batchFrames[k] = null!;
            }
        }
    }

    /// <summary>How many cameras have not ended; a loop, not LINQ: it runs once per frame.</summary>
    private int RunningCameras()
    {
        int n = 0;
        foreach (var c in Cameras)
            if (!c.Ended) n++;
        return n;
    }

    /// <summary>Whether every camera ended with a fault (then the pipeline fails with the first camera's).</summary>
    private bool AllFailed()
    {
        foreach (var c in Cameras)
            if (c.Error is null) return false;
        return true;
    }

    /// <summary>The next camera in turn with a waiting frame (taken out of its slot), round robin from <paramref name="next"/>.</summary>
    private (int Camera, CapturedFrame Frame)? TakeNext(CapturedFrame?[] pending, ref int next)
    {
        for (int k = 0; k < pending.Length; k++)
        {
            int c = (next + k) % pending.Length;
            if (Interlocked.Exchange(ref pending[c], null) is not { } frame) continue;
            next = c + 1;
            return (c, frame);
        }
        return null;
    }

    private FrameTimings? Process(int camera, CapturedFrame frame)
    {
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            if (_frameLimit > 0 && _processed >= _frameLimit) return null;
            ulong dequeued = MonotonicClock.NowNs;
            if (frame.Image.Type() != MatType.CV_8UC3)
                throw new FrameSourceException($"Frame {frame.Index} of camera {_cameras[camera].Name} ({_cameras[camera].Source.Description}) is " +
                    $"{frame.Image.Type()}, not 8-bit BGR.");
            var t = _stages[camera].Run(frame.Image, frame.Input, frame.CaptureNs);
            _processed++;
            var timings = new FrameTimings(frame.Index, t.FrameId, frame.CaptureNs, dequeued, t.Preprocessed, t.Inferred, t.Published, frame.SourceMs);
            Metrics.RecordPublished(timings, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
            Cameras[camera].CountPublished(t.Published);
            return timings;
        }
        finally
        {
            _pools[camera].Return(frame);
        }
    }

    /// <summary>How long <see cref="Dispose"/> waits for a subscription's teardown (a capture read in progress ends within its source's timeout).</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Frees the buffers once the subscription has stopped. A subscription that ended on its own (Take, every camera ended) is torn down on
    /// the inference thread, which may still be joining the capture threads when the subscriber has seen OnCompleted: wait for it. Abandoned
    /// captures keep their buffers, as in <see cref="FramePipeline"/>.
    /// </summary>
    public void Dispose()
    {
        if (!SpinWait.SpinUntil(() => Volatile.Read(ref _running) == 0, StopTimeout))
            throw new InvalidOperationException($"The pipeline is still running after {StopTimeout.TotalSeconds:F0} s: dispose the Frames() subscription first.");
        foreach (var s in _stages) s.Dispose();
        foreach (var i in _slotInputs) i.Dispose();
        for (int c = 0; c < _pools.Length; c++)
            if (!Cameras[c].Health.Abandoned) _pools[c].Dispose();
        Stats.Dispose();
        Metrics.Dispose();
    }
}
