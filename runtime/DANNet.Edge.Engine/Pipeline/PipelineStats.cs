using DANNet.Model;
using System.Diagnostics.Metrics;
using System.Globalization;
using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Pipeline;

/// <summary>
/// One consumer of <see cref="PipelineMetrics"/>: listens to its instruments and keeps running
/// statistics over a reporting window (the daemon's periodic log line), without allocating per frame.
/// </summary>
public sealed class PipelineStats : IDisposable
{
    private const int Capacity = 4096;
    private readonly double[] _total = new double[Capacity], _queue = new double[Capacity], _pre = new double[Capacity], _infer = new double[Capacity], _publish = new double[Capacity];
    private readonly Lock _lock = new();
    private readonly MeterListener _listener = new();
    private readonly PipelineMetrics _metrics;
    // Samples per stage in the window; _totalCount (capture→publish, one per published frame) is the window's frame count.
    private int _totalCount, _queueCount, _preCount, _inferCount, _publishCount;
    private long _dropped, _published;
    private ulong _windowStartNs;
    private long _inferenceAllocated, _captureAllocated, _captureFrames;

    public PipelineStats(PipelineMetrics metrics)
    {
        _metrics = metrics;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == metrics.Meter) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => OnLatency(instrument, value));
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => OnCount(instrument, value));
        _listener.Start();
    }

    /// <summary>Masks published since the start.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Frames dropped since the start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Managed bytes the inference thread allocated for the frames of the current window.</summary>
    public long InferenceAllocatedInWindow
    {
        get { lock (_lock) return _inferenceAllocated; }
    }

    private void OnCount(Instrument instrument, long value)
    {
        if (instrument == _metrics.Published) Interlocked.Add(ref _published, value);
        else if (instrument == _metrics.Dropped) Interlocked.Add(ref _dropped, value);
        else if (instrument == _metrics.InferenceAllocated) lock (_lock) _inferenceAllocated += value;
        else if (instrument == _metrics.CaptureAllocated) Interlocked.Add(ref _captureAllocated, value);
        else if (instrument == _metrics.CapturedFrames) Interlocked.Add(ref _captureFrames, value);
    }

    private void OnLatency(Instrument instrument, double value)
    {
        lock (_lock)
        {
            if (instrument == _metrics.CaptureToPublish)
            {
                if (_windowStartNs == 0) _windowStartNs = MonotonicClock.NowNs - (ulong)(value * 1e6);
                Put(_total, ref _totalCount, value);
            }
            else if (instrument == _metrics.Queue) Put(_queue, ref _queueCount, value);
            else if (instrument == _metrics.Preprocess) Put(_pre, ref _preCount, value);
            else if (instrument == _metrics.Infer) Put(_infer, ref _inferCount, value);
            else if (instrument == _metrics.Publish) Put(_publish, ref _publishCount, value);
        }
    }

    private static void Put(double[] values, ref int count, double value)
    {
        if (count < Capacity) values[count++] = value;
    }

    /// <summary>One line about the window since the last call, then a new window.</summary>
    public string Report(ulong nowNs, long droppedBefore)
    {
        lock (_lock)
        {
            double seconds = _windowStartNs == 0 ? 0 : (nowNs - _windowStartNs) / 1e9;
            string line = _totalCount == 0
                ? "no frames published in this window"
                : string.Create(CultureInfo.InvariantCulture,
                    $"{_totalCount / Math.Max(seconds, 1e-9):F1} fps, {Dropped - droppedBefore} dropped; ms mean/p95: " +
                    $"capture→publish {Stat(_total, _totalCount)}, queue {Stat(_queue, _queueCount)}, preprocess {Stat(_pre, _preCount)}, " +
                    $"infer {Stat(_infer, _inferCount)}, publish {Stat(_publish, _publishCount)}; managed allocations per frame: " +
                    $"inference {_inferenceAllocated / _totalCount} B, capture {Interlocked.Read(ref _captureAllocated) / Math.Max(1, Interlocked.Read(ref _captureFrames))} B");
            _totalCount = _queueCount = _preCount = _inferCount = _publishCount = 0;
            _inferenceAllocated = 0;
            Interlocked.Exchange(ref _captureAllocated, 0);
            Interlocked.Exchange(ref _captureFrames, 0);
            _windowStartNs = nowNs;
            return line;
        }
    }

    /// <summary>Mean and 95th percentile (nearest rank) of the window's values.</summary>
    private static string Stat(double[] values, int count)
    {
        if (count == 0) return "-";
        var latency = LatencySummary.Of(values.AsSpan(0, count));
        return string.Create(CultureInfo.InvariantCulture, $"{latency.Mean:F1}/{latency.P95:F1}");
    }

    public void Dispose() => _listener.Dispose();
}
