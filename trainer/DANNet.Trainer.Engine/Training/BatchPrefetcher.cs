using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace DANNet.Trainer.Training;

/// <summary>
/// The batches of the coming iterations, made on a background thread while the current one trains: images decoded, augmented and
/// stacked on the host, in page-locked memory for a CUDA run (so the copy need not wait), at most <c>ahead</c> iterations ahead.
/// A batch depends only on (seed, iteration), so prefetched batches are exactly the ones the loop would make itself: a run is
/// bit-identical with or without the prefetcher (a test). With <c>ahead</c> = 0 the batches are made in <see cref="Take"/>, as before.
/// </summary>
public sealed class BatchPrefetcher : IDisposable
{
    private readonly Func<long, (LabelledBatch Labelled, PairBatch? Pairs)> _make;
    private readonly BlockingCollection<(long Iteration, LabelledBatch? Labelled, PairBatch? Pairs, Exception? Error)>? _ready;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread? _worker;

    /// <param name="make">The batches of one iteration (thread-safe: the samplers' randomness is per iteration).</param>
    /// <param name="from">The first iteration.</param>
    /// <param name="to">One past the last iteration.</param>
    /// <param name="ahead">How many iterations' batches may wait (0: none, made on demand).</param>
    /// <param name="pin">Page-locked host memory (only with a CUDA libtorch and device).</param>
    public BatchPrefetcher(Func<long, (LabelledBatch, PairBatch?)> make, long from, long to, int ahead, bool pin)
    {
        _make = pin ? it => { var (l, p) = make(it); return (l.Pinned(), p?.Pinned()); } : make;
        if (ahead <= 0) return;
        _ready = new(ahead);
        _worker = new Thread(() => Produce(from, to)) { IsBackground = true, Name = "dannet-train batches" };
        _worker.Start();
    }

    private void Produce(long from, long to)
    {
        try
        {
            for (long it = from; it < to && !_stop.IsCancellationRequested; it++)
            {
                (LabelledBatch, PairBatch?) batch;
                try
                {
                    batch = _make(it);
                }
                catch (Exception ex)
                {
                    _ready!.Add((it, null, null, ex), _stop.Token);
                    return;
                }
                try
                {
                    _ready!.Add((it, batch.Item1, batch.Item2, null), _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    batch.Item1.Dispose();
                    batch.Item2?.Dispose();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed while waiting for room: the trainer stopped.
        }
        finally
        {
            _ready!.CompleteAdding();
        }
    }

    /// <summary>The batches of <paramref name="iteration"/> (iterations are taken in order); a failure making them is thrown here, as it was.</summary>
    public (LabelledBatch Labelled, PairBatch? Pairs) Take(long iteration)
    {
        if (_ready is null) return _make(iteration);
        var (it, labelled, pairs, error) = _ready.Take();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        if (it != iteration)
        {
            labelled!.Dispose();
            pairs?.Dispose();
            throw new InvalidOperationException($"The batch prefetcher is at iteration {it}, the trainer asked for {iteration}.");
        }
        return (labelled!, pairs);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _worker?.Join();
        if (_ready is not null)
        {
            while (_ready.TryTake(out var left))
            {
                left.Labelled?.Dispose();
                left.Pairs?.Dispose();
            }
            _ready.Dispose();
        }
        _stop.Dispose();
    }
}
