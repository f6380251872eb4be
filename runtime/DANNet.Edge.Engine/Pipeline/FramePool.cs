using System.Collections.Concurrent;

namespace DANNet.Edge.Pipeline;

/// <summary>
/// The few frame buffers the pipeline cycles through (one being captured, one waiting, one being
/// processed): frames are reused, never allocated per frame.
/// </summary>
public sealed class FramePool(int size = 3) : IDisposable
{
    private readonly ConcurrentBag<CapturedFrame> _free = new(Enumerable.Range(0, size).Select(_ => new CapturedFrame()));
    private readonly List<CapturedFrame> _all = [];

    /// <summary>A free frame; a new one only if all are in use (which the pipeline's design rules out).</summary>
    public CapturedFrame Rent()
    {
        if (_free.TryTake(out var frame)) return frame;
        frame = new CapturedFrame();
        lock (_all) _all.Add(frame);
        return frame;
    }

    public void Return(CapturedFrame frame) => _free.Add(frame);

    public void Dispose()
    {
        while (_free.TryTake(out var f)) f.Dispose();
        lock (_all) foreach (var f in _all) f.Dispose();
    }
}
