using System.Globalization;

namespace DANNet.Edge.Pipeline;

/// <summary>Running statistics of published frames over a reporting window, without allocating per frame.</summary>
public sealed class PipelineStats
{
    private const int Capacity = 4096;
    private readonly double[] _total = new double[Capacity], _queue = new double[Capacity], _pre = new double[Capacity], _infer = new double[Capacity], _publish = new double[Capacity];
    private readonly Lock _lock = new();
    private int _count;
    private long _dropped;
    private ulong _windowStartNs;
    private long _inferenceAllocated, _captureAllocated, _captureFrames;

    public long Published { get; private set; }

    /// <summary>Managed bytes the inference thread allocated for the frames of the current window.</summary>
    public long InferenceAllocatedInWindow
    {
        get { lock (_lock) return _inferenceAllocated; }
    }
    public long Dropped => Interlocked.Read(ref _dropped);

    public void AddDropped() => Interlocked.Increment(ref _dropped);

    /// <summary>Managed bytes the capture thread allocated for one frame.</summary>
    public void AddCaptureAllocation(long bytes)
    {
        Interlocked.Add(ref _captureAllocated, bytes);
        Interlocked.Increment(ref _captureFrames);
    }

    /// <summary>A published frame's timings and the managed bytes the inference thread allocated for it.</summary>
    public void Add(in FrameTimings t, long allocatedBytes = 0)
    {
        lock (_lock)
        {
            _inferenceAllocated += allocatedBytes;
            if (_windowStartNs == 0) _windowStartNs = t.CaptureNs;
            Published++;
            if (_count == Capacity) return;
            _total[_count] = t.TotalMs;
            _queue[_count] = t.QueueMs;
            _pre[_count] = t.PreprocessMs;
            _infer[_count] = t.InferMs;
            _publish[_count] = t.PublishMs;
            _count++;
        }
    }

    /// <summary>One line about the window since the last call, then a new window.</summary>
    public string Report(ulong nowNs, long droppedBefore)
    {
        lock (_lock)
        {
            double seconds = _windowStartNs == 0 ? 0 : (nowNs - _windowStartNs) / 1e9;
            string line = _count == 0
                ? "no frames published in this window"
                : string.Create(CultureInfo.InvariantCulture,
                    $"{_count / Math.Max(seconds, 1e-9):F1} fps, {Dropped - droppedBefore} dropped; ms mean/p95: capture→publish {Stat(_total)}, queue {Stat(_queue)}, preprocess {Stat(_pre)}, infer {Stat(_infer)}, publish {Stat(_publish)}; " +
                    $"managed allocations per frame: inference {_inferenceAllocated / _count} B, capture {Interlocked.Read(ref _captureAllocated) / Math.Max(1, Interlocked.Read(ref _captureFrames))} B");
            _count = 0;
            _inferenceAllocated = 0;
            Interlocked.Exchange(ref _captureAllocated, 0);
            Interlocked.Exchange(ref _captureFrames, 0);
            _windowStartNs = nowNs;
            return line;
        }
    }

    private string Stat(double[] values)
    {
        var span = values.AsSpan(0, _count);
        double mean = 0;
        foreach (var v in span) mean += v;
        mean /= _count;
        var sorted = span.ToArray();
        Array.Sort(sorted);
        return string.Create(CultureInfo.InvariantCulture, $"{mean:F1}/{sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(0.95 * sorted.Length) - 1)]:F1}");
    }
}
