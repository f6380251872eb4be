using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Pipeline;

/// <summary>What the capture stage is doing.</summary>
public enum SourceState
{
    /// <summary>Opening the source for the first time.</summary>
    Opening,

    /// <summary>Reading frames.</summary>
    Reading,

    /// <summary>Waiting to re-open a live source after a timeout, a fault or a failed open.</summary>
    Reconnecting,

    /// <summary>The stream ended or failed for good.</summary>
    Ended,
}

/// <summary>
/// The capture stage's state as the service sees it: written by the capture thread, read by the
/// watchdog and the status line. <see cref="ActivityNs"/> moves whenever the capture thread does
/// something (a read returned, a back-off slice passed), so a thread stuck inside a read shows as
/// not moving whatever its state says.
/// </summary>
public sealed class SourceHealth
{
    private int _state = (int)SourceState.Opening;
    private long _activityNs = (long)MonotonicClock.NowNs;
    private long _nextAttemptNs;
    private int _attempt;
    private long _reconnects;
    private long _damaged;

    public SourceState State => (SourceState)Volatile.Read(ref _state);

    public long ActivityNs => Interlocked.Read(ref _activityNs);

    /// <summary>Re-opens attempted since the service started.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Times damaged input (a file's undecodable frames) was skipped.</summary>
    public long DamagedInput => Interlocked.Read(ref _damaged);

    public void Damaged() => Interlocked.Increment(ref _damaged);

    /// <summary>The capture thread did not stop in time and was left running: its source and frame buffers must not be freed.</summary>
    public bool Abandoned { get; private set; }

    public void Abandon() => Abandoned = true;

    /// <summary>The capture thread is alive and doing its work.</summary>
    public void Touch() => Interlocked.Exchange(ref _activityNs, (long)MonotonicClock.NowNs);

    public void Reading()
    {
        Volatile.Write(ref _attempt, 0);
        Volatile.Write(ref _state, (int)SourceState.Reading);
        Touch();
    }

    public void Reconnecting(int attempt, TimeSpan delay)
    {
        Volatile.Write(ref _attempt, attempt);
        Interlocked.Exchange(ref _nextAttemptNs, (long)MonotonicClock.NowNs + (long)(delay.TotalMilliseconds * 1e6));
        Interlocked.Increment(ref _reconnects);
        Volatile.Write(ref _state, (int)SourceState.Reconnecting);
        Touch();
    }

    public void Ended()
    {
        Volatile.Write(ref _state, (int)SourceState.Ended);
        Touch();
    }

    /// <summary>For STATUS= and logs: "reading", or "reconnecting (attempt 3, next in 4.0 s)".</summary>
    public string Describe()
    {
        var state = State;
        if (state != SourceState.Reconnecting) return state.ToString().ToLowerInvariant();
        double next = Math.Max(0, (Interlocked.Read(ref _nextAttemptNs) - (long)MonotonicClock.NowNs) / 1e9);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"reconnecting (attempt {Volatile.Read(ref _attempt)}, next in {next:F1} s)");
    }
}

/// <summary>
/// When the service tells systemd it is alive: while masks are being published (the last one younger
/// than the watchdog interval), or while the capture thread is demonstrably working on getting frames
/// back (reconnecting, or opening, and active within the interval). A stalled inference or a capture
/// thread stuck beyond its timeout stops the pings, and systemd restarts the service.
/// </summary>
public static class Liveness
{
    public static bool ShouldPing(long nowNs, long lastPublishNs, SourceHealth source, TimeSpan interval)
    {
        long window = (long)(interval.TotalMilliseconds * 1e6);
        if (nowNs - lastPublishNs < window) return true;
        return source.State is SourceState.Reconnecting or SourceState.Opening && nowNs - source.ActivityNs < window;
    }
}
