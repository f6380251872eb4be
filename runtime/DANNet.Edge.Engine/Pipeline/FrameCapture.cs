using System.Reactive.Disposables;
using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using Microsoft.Extensions.Logging;

namespace DANNet.Edge.Pipeline;

/// <summary>
/// The capture stage as an observable on its own thread: frames from a source into pooled buffers.
/// End of stream completes it; a live source that cannot be opened, times out or faults is (re-)opened
/// with capped exponential backoff (<see cref="ReconnectDelays"/>), its state in <see cref="SourceHealth"/>;
/// a file or folder that cannot be opened or faults ends it with the error.
/// </summary>
public static class FrameCapture
{
    public static IObservable<CapturedFrame> Observe(IFrameSource source, SourceOptions options, FramePool pool, ILogger log, PipelineMetrics? metrics = null,
        SourceHealth? health = null) =>
        Observable.Create<CapturedFrame>(observer =>
        {
            var cancel = new CancellationTokenSource();
            var thread = new Thread(() =>
            {
                try
                {
                    Capture(source, options, pool, log, metrics, health ?? new SourceHealth(), observer, cancel.Token);
                }
                catch (Exception ex)
                {
                    observer.OnError(ex);
                }
            }) { IsBackground = true, Name = "dannet-edge capture" };
            thread.Start();
            // Disposing waits for the capture thread — bounded: a read stuck inside a native back-end is given the source's
            // timeout and a margin, then the thread is abandoned (marked in the health, so that its source and frames, which
            // it may still touch, are left alone rather than freed under it).
            return Disposable.Create(() =>
            {
                cancel.Cancel();
                if (Thread.CurrentThread != thread && !thread.Join(TimeSpan.FromSeconds(options.TimeoutSeconds + 5)))
                {
                    (health ?? new SourceHealth()).Abandon();
                    log.LogError("The capture thread did not leave {Source} within {Seconds:F0} s (a read is stuck in the back-end); it is abandoned",
                        source.Description, options.TimeoutSeconds + 5);
                    return;
                }
                cancel.Dispose();
            });
        });

    private static void Capture(IFrameSource source, SourceOptions options, FramePool pool, ILogger log, PipelineMetrics? metrics, SourceHealth health,
        IObserver<CapturedFrame> observer, CancellationToken cancel)
    {
        long index = 0;
        int failures = 0;
        // A live source that cannot be opened at start (a camera not plugged in yet, a stream not up) backs off and retries like any
        // reconnect; a file or folder that cannot be opened is an error at once.
        bool open = TryOpen(source, log, first: true);
        if (open) health.Reading();
        while (!cancel.IsCancellationRequested)
        {
            if (!open)
            {
                var wait = ReconnectDelays.Delay(failures++, options.ReconnectInitialSeconds, options.ReconnectMaxSeconds);
                health.Reconnecting(failures, wait);
                log.LogWarning("Source {Source} is not open; retrying in {Delay:F1} s (attempt {Attempt})", source.Description, wait.TotalSeconds, failures);
                if (Wait(wait, health, cancel)) break;
                open = TryOpen(source, log, first: false);
                if (open) health.Reading();
                continue;
            }
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var frame = pool.Rent();
            var status = source.Read(frame.Image, out string? problem);
            health.Touch();
            if (status == FrameReadStatus.Frame)
            {
                if (problem is not null)
                {
                    health.Damaged();
                    log.LogWarning("Source {Source}: {Problem} (the frame after the damage is frame {Frame} of this run)", source.Description, problem, index);
                }
                failures = 0;
                metrics?.RecordCaptured(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
                frame.Index = index++;
                frame.CaptureNs = MonotonicClock.NowNs;
                frame.SourceMs = source.TimestampMs ?? double.NaN;
                frame.Name = source.FrameName;
                observer.OnNext(frame);
                continue;
            }
            pool.Return(frame);
            if (status == FrameReadStatus.EndOfStream && problem is not null)
            {
                // Damaged input at the very end (a folder's last images): counted like damage anywhere else.
                health.Damaged();
                log.LogWarning("Source {Source}: {Problem} (at the end, after frame {Frame} of this run)", source.Description, problem, index);
            }
            if (status == FrameReadStatus.EndOfStream)
            {
                log.LogInformation("End of stream after {Frames} frames from {Source}", index, source.Description);
                health.Ended();
                observer.OnCompleted();
                return;
            }
            if (!source.IsLive)
            {
                health.Ended();
                throw new FrameSourceException($"Source {source.Description} failed at frame {index}: {problem}.");
            }
            var delay = ReconnectDelays.Delay(failures++, options.ReconnectInitialSeconds, options.ReconnectMaxSeconds);
            health.Reconnecting(failures, delay);
            log.LogWarning("Source {Source} {Status} at frame {Frame} ({Problem}); reconnecting in {Delay:F1} s (attempt {Attempt})",
                source.Description, status == FrameReadStatus.Timeout ? "timed out" : "faulted", index, problem, delay.TotalSeconds, failures);
            if (Wait(delay, health, cancel)) break;
            open = TryOpen(source, log, first: false);
            if (open) health.Reading();
        }
        observer.OnCompleted();
    }

    /// <summary>Opens the source; false (logged) when a live one cannot be opened now, an exception when a file cannot.</summary>
    private static bool TryOpen(IFrameSource source, ILogger log, bool first)
    {
        try
        {
            source.Open();
            log.LogInformation(first ? "Capturing from {Source}" : "Reconnected to {Source}", source.Description);
            return true;
        }
        catch (FrameSourceException ex) when (source.IsLive)
        {
            log.LogWarning("{What} {Source} failed: {Reason}", first ? "Opening" : "Reconnect to", source.Description, ex.Message);
            return false;
        }
    }

    /// <summary>Waits out a back-off in slices of at most a second, showing the capture thread alive; true when cancelled.</summary>
    private static bool Wait(TimeSpan delay, SourceHealth health, CancellationToken cancel)
    {
        var until = DateTime.UtcNow + delay;
        while (DateTime.UtcNow < until)
        {
            var slice = until - DateTime.UtcNow;
            if (slice > TimeSpan.FromSeconds(1)) slice = TimeSpan.FromSeconds(1);
            if (slice > TimeSpan.Zero && cancel.WaitHandle.WaitOne(slice)) return true;
            health.Touch();
        }
        return cancel.IsCancellationRequested;
    }
}

/// <summary>Capped exponential backoff: initial·2^attempt, at most max.</summary>
public static class ReconnectDelays
{
    public static TimeSpan Delay(int attempt, double initialSeconds, double maxSeconds) =>
        TimeSpan.FromSeconds(Math.Min(maxSeconds, initialSeconds * Math.Pow(2, Math.Min(attempt, 30))));
}
