namespace DANNet.Trainer.Diagnostics;

/// <summary>
/// An <see cref="IProgress{T}"/> that reports on the calling thread, at once (the framework's
/// <c>Progress&lt;T&gt;</c> posts to the thread pool, so reports arrive late and out of order).
/// </summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
