using System.Reactive.Disposables;
using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.Inference;
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
    private readonly SegmentationSession _session;
    private readonly MaskRingWriter _ring;
    private readonly SourceOptions _options;
    private readonly ILogger _log;
    private readonly FramePool _pool = new(3);
    private readonly Mat _input;
    private readonly InputResizer _resizer;

    public FramePipeline(IFrameSource source, SegmentationSession session, MaskRingWriter ring, SourceOptions options, ILogger log)
    {
        if (ring.Geometry.Width != session.Info.Width || ring.Geometry.Height != session.Info.Height)
            throw new ArgumentException($"The ring holds {ring.Geometry.Width}x{ring.Geometry.Height} masks, the model makes {session.Info.Width}x{session.Info.Height}.");
        _source = source;
        _session = session;
        _ring = ring;
        _options = options;
        _log = log;
        _input = Mat.FromPixelData(session.Info.Height, session.Info.Width, MatType.CV_8UC3, session.ImageAddress);
        _resizer = new InputResizer(_input);

        session.BindOutputBuffers(Enumerable.Range(0, ring.Geometry.SlotCount).Select(ring.SlotMaskAddress).ToArray());
    }

    public PipelineStats Stats { get; } = new();

    private int _running;

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

    private IObservable<FrameTimings> Stages() =>
        FrameCapture.Observe(_source, _options, _pool, _log, Stats)
            .ObserveLatestOn("dannet-edge inference", dropped =>
            {
                Stats.AddDropped();
                _ring.CountDropped(1);
                _pool.Return(dropped);
            })
            .Select(Process);

    private FrameTimings Process(CapturedFrame frame)
    {
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            ulong dequeued = MonotonicClock.NowNs;
            if (frame.Image.Type() != MatType.CV_8UC3)
                throw new FrameSourceException($"Frame {frame.Index} from {_source.Description} is {frame.Image.Type()}, not 8-bit BGR.");
            _resizer.Resize(frame.Input);
            ulong preprocessed = MonotonicClock.NowNs;
            int slot = _ring.NextSlot;
            _ring.BeginFrame();
            _session.RunInto(slot);
            ulong inferred = MonotonicClock.NowNs;
            ulong frameId = _ring.Commit(frame.CaptureNs);
            var timings = new FrameTimings(frame.Index, frameId, frame.CaptureNs, dequeued, preprocessed, inferred, MonotonicClock.NowNs);
            Stats.Add(timings, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
            return timings;
        }
        finally
        {
            _pool.Return(frame);
        }
    }

    public void Dispose()
    {
        _resizer.Dispose();
        _input.Dispose();
        _pool.Dispose();
    }
}
