using OpenCvSharp;

namespace DANNet.Edge.Sources;

/// <summary>
/// A live OpenCV capture whose open and reads run on a thread of its own, so that the caller waits
/// at most a timeout: a call that does not return in time (a wedged driver, a stalled stream inside
/// OpenCV's back-end) is abandoned — the thread and the capture are left to finish or hang on their
/// own, and dispose themselves if they ever return — and the caller opens a new one. Frames are read
/// into the worker's own buffer and copied out, so an abandoned read never writes into a frame the
/// pipeline has moved on with.
/// </summary>
public sealed class BoundedCapture : IDisposable
{
    private readonly Thread _thread;
    private readonly SemaphoreSlim _go = new(0, 1);
    private readonly SemaphoreSlim _done = new(0, 1);
    private readonly Mat _buffer = new();
    private readonly Func<VideoCapture> _open;
    private VideoCapture? _capture;
    private Exception? _failure;
    private bool _ok;
    private volatile bool _abandoned, _stopping, _opening = true;

    private BoundedCapture(Func<VideoCapture> open, string name)
    {
        _open = open;
        _thread = new Thread(Work) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Opens through <paramref name="open"/> on the worker thread; null when that took longer than <paramref name="timeout"/> (abandoned).</summary>
    public static BoundedCapture? Open(Func<VideoCapture> open, TimeSpan timeout, string name, out Exception? failure, out bool timedOut)
    {
        var bounded = new BoundedCapture(open, name);
        failure = null;
        timedOut = !bounded._done.Wait(timeout);
        if (timedOut)
        {
            bounded._abandoned = true;
            return null;
        }
        if (bounded._failure is not null || bounded._capture is null || !bounded._capture.IsOpened())
        {
            failure = bounded._failure;
            bounded.Dispose();
            return null;
        }
        return bounded;
    }

    /// <summary>The open capture, for settings (call only between reads).</summary>
    public VideoCapture Capture => _capture!;

    /// <summary>
    /// Reads the next frame into <paramref name="frame"/>: true when the read returned within <paramref name="timeout"/>
    /// (<paramref name="ok"/> says whether it gave a frame); false when it did not — this capture is then abandoned.
    /// </summary>
    public bool TryRead(Mat frame, TimeSpan timeout, out bool ok, out string? problem)
    {
        ok = false;
        problem = null;
        _go.Release();
        if (!_done.Wait(timeout))
        {
            _abandoned = true;
            return false;
        }
        if (_failure is not null)
        {
            problem = _failure.Message;
            _failure = null;
            return true;
        }
        ok = _ok;
        if (ok) _buffer.CopyTo(frame);
        return true;
    }

    private void Work()
    {
        try
        {
            _capture = _open();
        }
        catch (Exception ex) when (ex is OpenCVException or OpenCvSharpException)
        {
            _failure = ex;
        }
        _opening = false;
        if (_abandoned) { Cleanup(); return; }
        _done.Release();
        while (true)
        {
            _go.Wait();
            if (_stopping) break;
            try
            {
                _ok = _capture!.Read(_buffer) && !_buffer.Empty();
            }
            catch (Exception ex) when (ex is OpenCVException or OpenCvSharpException)
            {
                _ok = false;
                _failure = ex;
            }
            // Abandoned while reading: nobody waits for this frame any more; the capture is this thread's to free.
            if (_abandoned) break;
            _done.Release();
        }
        Cleanup();
    }

    private void Cleanup()
    {
        _capture?.Dispose();
        _buffer.Dispose();
    }

    public void Dispose()
    {
        // An abandoned worker frees everything itself when (if) its call returns.
        if (_abandoned) return;
        _abandoned = true;
        _stopping = true;
        if (!_opening) _go.Release();
    }
}
