using System.Reactive.Disposables;
using System.Reactive.Linq;

namespace DANNet.Edge.Pipeline;

/// <summary>The hand-offs between capture and inference: latest frame wins (the daemon), or every frame in order (replay).</summary>
public static class LatestOnlyExtensions
{
    /// <summary>
    /// Delivers items on a dedicated thread, always the newest: an item that arrives while an older
    /// one still waits replaces it, and the older one goes to <paramref name="dropped"/> (to count it
    /// and return its buffer). Never queues more than one item; the producer never waits. Errors and
    /// completion are delivered after the waiting item.
    /// </summary>
    public static IObservable<T> ObserveLatestOn<T>(this IObservable<T> source, string threadName, Action<T> dropped) where T : class =>
        HandOff(source, threadName, dropped);

    /// <summary>
    /// Delivers every item, in order, on a dedicated thread, holding at most one: the producer waits
    /// until the consumer has taken the previous item (so a file is read as fast as inference goes,
    /// never faster). Errors and completion are delivered after the last item.
    /// </summary>
    public static IObservable<T> ObserveInOrderOn<T>(this IObservable<T> source, string threadName) where T : class =>
        HandOff(source, threadName, dropped: null);

    /// <summary>One waiting slot and a consumer thread; with <paramref name="dropped"/> a newer item replaces the waiting one, without it the producer waits for the slot.</summary>
    private static IObservable<T> HandOff<T>(IObservable<T> source, string threadName, Action<T>? dropped) where T : class =>
        Observable.Create<T>(observer =>
        {
            T? pending = null;
            Exception? error = null;
            bool completed = false;
            var signal = new AutoResetEvent(false);
            var free = new SemaphoreSlim(1, 1);
            var stop = new CancellationTokenSource();
            var consumer = new Thread(() =>
            {
                try
                {
                    // Look before waiting: a signal set while an item was being processed is not lost.
                    while (!stop.IsCancellationRequested)
                    {
                        var item = Interlocked.Exchange(ref pending, null);
                        if (item is not null)
                        {
                            if (dropped is null) free.Release();
                            observer.OnNext(item);
                            continue;
                        }
                        if (Volatile.Read(ref error) is { } e) { observer.OnError(e); return; }
                        if (Volatile.Read(ref completed)) { observer.OnCompleted(); return; }
                        signal.WaitOne();
                    }
                }
                catch (Exception ex)
                {
                    observer.OnError(ex);
                }
            }) { IsBackground = true, Name = threadName };

            void Wake() => signal.Set();

            var subscription = source.Subscribe(
                item =>
                {
                    if (dropped is null)
                    {
                        try { free.Wait(stop.Token); }
                        catch (OperationCanceledException) { return; }
                        Volatile.Write(ref pending, item);
                    }
                    else if (Interlocked.Exchange(ref pending, item) is { } old) dropped(old);
                    Wake();
                },
                ex => { Volatile.Write(ref error, ex); Wake(); },
                () => { Volatile.Write(ref completed, true); Wake(); });
            consumer.Start();
            return Disposable.Create(() =>
            {
                stop.Cancel();
                subscription.Dispose();
                signal.Set();
                if (Thread.CurrentThread != consumer) consumer.Join();
                if (Interlocked.Exchange(ref pending, null) is { } left) dropped?.Invoke(left);
                signal.Dispose();
                stop.Dispose();
            });
        });
}
