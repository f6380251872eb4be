using System.Reactive.Disposables;
using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using Microsoft.Extensions.Logging;

namespace DANNet.Edge.Pipeline;

/// <summary>
/// The capture stage as an observable on its own thread: frames from a source into pooled buffers.
/// End of stream completes it; a live source that times out or faults is re-opened with capped
/// exponential backoff (<see cref="ReconnectDelays"/>); a source that cannot be opened at all, or a
/// file that faults, ends it with the error.
/// </summary>
internal static class FrameCapture
{
    public static IObservable<CapturedFrame> Observe(IFrameSource source, SourceOptions options, FramePool pool, ILogger log, PipelineMetrics? metrics = null) =>
        Observable.Create<CapturedFrame>(observer =>
        {
            var cancel = new CancellationTokenSource();
            var thread = new Thread(() =>
            {
                try
                {
                    Capture(source, options, pool, log, metrics, observer, cancel.Token);
                }
                catch (Exception ex)
                {
                    observer.OnError(ex);
                }
            }) { IsBackground = true, Name = "dannet-edge capture" };
            thread.Start();
            // Disposing waits for the capture thread (at most one read, bounded by the source's
            // timeout): the source and the pooled frames must outlive any read still in progress.
            return Disposable.Create(() =>
            {
                cancel.Cancel();
                if (Thread.CurrentThread != thread) thread.Join();
                cancel.Dispose();
            });
        });

    private static void Capture(IFrameSource source, SourceOptions options, FramePool pool, ILogger log, PipelineMetrics? metrics, IObserver<CapturedFrame> observer, CancellationToken cancel)
    {
        source.Open();
        log.LogInformation("Capturing from {Source}", source.Description);
        long index = 0;
        int failures = 0;
        while (!cancel.IsCancellationRequested)
        {
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var frame = pool.Rent();
            var status = source.Read(frame.Image, out string? problem);
            if (status == FrameReadStatus.Frame)
            {
                failures = 0;
                metrics?.RecordCaptured(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
                frame.Index = index++;
                frame.CaptureNs = MonotonicClock.NowNs;
                observer.OnNext(frame);
                continue;
            }
            pool.Return(frame);
            if (status == FrameReadStatus.EndOfStream)
            {
                log.LogInformation("End of stream after {Frames} frames from {Source}", index, source.Description);
                observer.OnCompleted();
                return;
            }
            if (!source.IsLive)
                throw new FrameSourceException($"Source {source.Description} failed at frame {index}: {problem}.");
            var delay = ReconnectDelays.Delay(failures++, options.ReconnectInitialSeconds, options.ReconnectMaxSeconds);
            log.LogWarning("Source {Source} {Status} at frame {Frame} ({Problem}); reconnecting in {Delay:F1} s (attempt {Attempt})",
                source.Description, status == FrameReadStatus.Timeout ? "timed out" : "faulted", index, problem, delay.TotalSeconds, failures);
            if (cancel.WaitHandle.WaitOne(delay)) break;
            try
            {
                source.Open();
                log.LogInformation("Reconnected to {Source}", source.Description);
            }
            catch (FrameSourceException ex)
            {
                log.LogWarning("Reconnect to {Source} failed: {Reason}", source.Description, ex.Message);
            }
        }
        observer.OnCompleted();
    }
}

/// <summary>Capped exponential backoff: initial·2^attempt, at most max.</summary>
internal static class ReconnectDelays
{
    public static TimeSpan Delay(int attempt, double initialSeconds, double maxSeconds) =>
        TimeSpan.FromSeconds(Math.Min(maxSeconds, initialSeconds * Math.Pow(2, Math.Min(attempt, 30))));
}
