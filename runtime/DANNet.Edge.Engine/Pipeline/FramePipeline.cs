using DANNet.Model;
using DANNet.Edge.Contracts;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace DANNet.Edge.Pipeline;

/// <summary>
/// capture → (latest frame wins) → preprocess → infer → publish, as one observable of per-frame
/// timings. Capture runs on its own thread; the other stages on the inference thread. A frame that
/// waits while a newer one arrives is dropped (counted, its buffer reused): the mask published is
/// always of the newest frame inference could take. The camera frame is resized straight into the
/// model's pinned input buffer, and the mask is written by ONNX Runtime straight into the ring slot.
/// </summary>
public sealed class FramePipeline : IDisposable
{
    private readonly IFrameSource _source;
    private readonly SourceOptions _options;
    private readonly ILogger _log;
    private readonly FramePool _pool = new(3);
    private readonly FrameStages _stages;

    /// <summary>Sees each published frame and its mask on the inference thread, before the frame's buffer is reused.</summary>
    public delegate void MaskObserver(CapturedFrame frame, ReadOnlySpan<byte> mask, in FrameTimings timings);

    private readonly bool _everyFrame;
    private readonly MaskObserver? _observer;

    /// <summary>
    /// Wires <paramref name="source"/> through <paramref name="session"/> into <paramref name="ring"/>; dispose the pipeline before the ring and the
    /// session. <paramref name="everyFrame"/>: no frame is dropped (replay) — capture waits for inference instead of the newest frame winning.
    /// </summary>
    public FramePipeline(IFrameSource source, SegmentationSession session, MaskRingWriter ring, SourceOptions options, ILogger log,
        InputResize? resize = null, bool everyFrame = false, MaskObserver? observer = null)
    {
        _everyFrame = everyFrame;
        _observer = observer;
        Stats = new PipelineStats(Metrics);
        _stages = new FrameStages(session, ring, resize);
        _source = source;
        _options = options;
        _log = log;
    }

    /// <summary>The instruments every frame is recorded into (System.Diagnostics.Metrics, meter <see cref="PipelineMetrics.MeterName"/>).</summary>
    public PipelineMetrics Metrics { get; } = new();

    /// <summary>The windowed statistics behind the daemon's periodic log line: one consumer of <see cref="Metrics"/>.</summary>
    public PipelineStats Stats { get; }

    /// <summary>What the capture stage is doing (reading, reconnecting), for the watchdog and the status line.</summary>
    public SourceHealth Health { get; } = new();

    private int _running;

    /// <summary>How long <see cref="Dispose"/> waits for a subscription's teardown (a capture read in progress ends within the source's timeout).</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The running pipeline: subscribe to start capturing; dispose the subscription to stop (it
    /// returns once the capture thread has left the source). One subscription at a time: a second
    /// one while the first is still running or stopping is refused, since both would drive the
    /// same source and buffers.
    /// </summary>
    public IObservable<FrameTimings> Frames() =>
        Observable.Create<FrameTimings>(observer =>
        {
            if (Interlocked.Exchange(ref _running, 1) == 1)
                throw new InvalidOperationException("The pipeline is already running (or still stopping): one subscription at a time.");
            var inner = Stages().Subscribe(observer);
            return Disposable.Create(() =>
            {
                inner.Dispose();
                Volatile.Write(ref _running, 0);
            });
        });

    /// <summary>
    /// Runs the pipeline until the source ends or a fault stops it (returned), or <paramref name="cancel"/> is requested — then the frame
    /// in flight finishes and <paramref name="interrupted"/> is set. The caller's observer has seen every frame when this returns.
    /// </summary>
    public Exception? RunToEnd(CancellationToken cancel, out bool interrupted)
    {
        interrupted = false;
        using var done = new ManualResetEventSlim();
        Exception? failure = null;
        using (Frames().Subscribe(_ => { }, ex => { failure = ex; done.Set(); }, done.Set))
        {
            while (!done.Wait(100))
                if (cancel.IsCancellationRequested)
                {
                    interrupted = true;
                    break;
                }
        }
        return failure;
    }

    private IObservable<FrameTimings> Stages()
    {
        var captured = FrameCapture.Observe(_source, _options, _pool, _log, Metrics, Health);
        var handedOver = _everyFrame
            ? captured.ObserveInOrderOn("dannet-edge inference")
            : captured.ObserveLatestOn("dannet-edge inference", dropped =>
            {
                Metrics.Dropped.Add(1);
                _stages.Output.CountDropped(1);
                _pool.Return(dropped);
            });
        return handedOver.Select(Process);
    }

    private FrameTimings Process(CapturedFrame frame)
    {
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            ulong dequeued = MonotonicClock.NowNs;
            if (frame.Image.Type() != MatType.CV_8UC3)
                throw new FrameSourceException($"Frame {frame.Index} from {_source.Description} is {frame.Image.Type()}, not 8-bit BGR.");
            var t = _stages.Run(frame.Image, frame.Input, frame.CaptureNs);
            var timings = new FrameTimings(frame.Index, t.FrameId, frame.CaptureNs, dequeued, t.Preprocessed, t.Inferred, t.Published, frame.SourceMs);
            Metrics.RecordPublished(timings, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
            _observer?.Invoke(frame, _stages.Output.Mask(_stages.Output.LastSlot), timings);
            return timings;
        }
        finally
        {
            _pool.Return(frame);
        }
    }

    /// <summary>
    /// Frees the pipeline's buffers once its subscription has stopped. A subscription that ended on
    /// its own (Take, end of stream) is torn down on the inference thread, which may still be joining
    /// the capture thread — reading a frame into a pooled buffer — when the subscriber has already
    /// seen OnCompleted; so wait for that teardown before the pool, the input and the ring bindings go.
    /// </summary>
    public void Dispose()
    {
        if (!SpinWait.SpinUntil(() => Volatile.Read(ref _running) == 0, StopTimeout))
            throw new InvalidOperationException($"The pipeline is still running after {StopTimeout.TotalSeconds:F0} s: dispose the Frames() subscription before the pipeline.");
        _stages.Dispose();
        // An abandoned capture thread may still write into a pooled frame: those stay allocated until the process ends.
        if (!Health.Abandoned) _pool.Dispose();
        Stats.Dispose();
        Metrics.Dispose();
    }
}
