namespace DANNet.Trainer.Tests.Training;

/// <summary>
/// A background thread that forces full collections and runs the finalizers back to back until
/// disposed, so that any object whose last managed reference is gone — while native code still
/// uses its handle — is finalized inside that window, not hours later.
/// </summary>
public sealed class CollectionHammer : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _collections;

    public CollectionHammer()
    {
        _thread = new Thread(() =>
        {
            while (!_stop)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Interlocked.Increment(ref _collections);
            }
        }) { IsBackground = true, Name = "collection hammer" };
        _thread.Start();
    }

    /// <summary>Full collections forced so far.</summary>
    public long Collections => Interlocked.Read(ref _collections);

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
