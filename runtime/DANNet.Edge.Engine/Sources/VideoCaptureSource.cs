using System.Diagnostics;
using DANNet.Edge.Configuration;
using OpenCvSharp;

namespace DANNet.Edge.Sources;

/// <summary>
/// A video file, V4L2 camera, network stream or GStreamer pipeline through OpenCV's VideoCapture.
/// Files can loop and be paced at their own frame rate, so a recorded drive behaves like a camera.
/// </summary>
public sealed class VideoCaptureSource : IFrameSource
{
    private readonly string _uri;
    private readonly string _target;
    private readonly VideoCaptureAPIs _api;
    private readonly SourceOptions _options;
    private readonly Stopwatch _pace = new();
    private VideoCapture? _capture;
    private BoundedCapture? _live;
    private double _fps;
    private long _framesSincePace;
    private long _position;

    public VideoCaptureSource(string uri, string target, VideoCaptureAPIs api, bool live, SourceOptions options)
    {
        _uri = uri;
        _target = target;
        _api = api;
        IsLive = live;
        _options = options;
    }

    public string Description => $"{_uri} (OpenCV {_api})";

    /// <summary>A recording's own timestamp of the frame last read (its presentation time, ms); none for live sources.</summary>
    public double? TimestampMs => !IsLive && _capture is not null ? _capture.Get(VideoCaptureProperties.PosMsec) : null;

    public bool IsLive { get; }

    /// <summary>Frame rate reported by the source (0 when unknown).</summary>
    public double Fps => _fps;

    public void Open()
    {
        _capture?.Dispose();
        _capture = null;
        _live?.Dispose();
        _live = null;
        if (_api == VideoCaptureAPIs.GSTREAMER && !FrameSourceFactory.HasBackend("GStreamer"))
            throw new FrameSourceException($"Source '{_uri}' needs OpenCV's GStreamer back-end, and this OpenCV build has none (NuGet's OpenCvSharp runtime is built without it). " +
                "On a Jetson use JetPack's OpenCV (built with GStreamer) with its libOpenCvSharpExtern, or use a v4l2:// camera.");
        string notOpened = $"Source '{_uri}' could not be opened through OpenCV {_api}: " + (IsLive ? "is the device connected / the stream reachable?" : "is it a video OpenCV's " +
            "FFmpeg can decode (mp4/h264, avi/MJPG)?");
        if (IsLive)
        {
            // A live source opens and reads on a worker thread, so that a call stuck in the driver costs at most Source:TimeoutSeconds.
            _live = BoundedCapture.Open(NewCapture, TimeSpan.FromSeconds(_options.TimeoutSeconds), "dannet-edge camera", out var failure, out bool timedOut)
                ?? throw new FrameSourceException(timedOut ? $"{notOpened} (no answer within {_options.TimeoutSeconds:F0} s)"
                    : failure is null ? notOpened : $"{notOpened} ({failure.Message})");
            Configure(_live.Capture);
            RefuseOversized(_live.Capture);
            _fps = _live.Capture.Fps is > 0 and < 1000 ? _live.Capture.Fps : 0;
            return;
        }
        var capture = NewCapture();
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new FrameSourceException(notOpened);
        }
        try
        {
            RefuseOversized(capture);
        }
        catch
        {
            capture.Dispose();
            throw;
        }
        _fps = capture.Fps is > 0 and < 1000 ? capture.Fps : 0;
        _capture = capture;
        _pace.Restart();
        _framesSincePace = 0;
        _position = 0;
    }

    /// <summary>The container's (or device's) frame size is checked before any frame is decoded.</summary>
    private void RefuseOversized(VideoCapture capture)
    {
        int width = (int)capture.Get(VideoCaptureProperties.FrameWidth), height = (int)capture.Get(VideoCaptureProperties.FrameHeight);
        if (width > _options.MaxWidth || height > _options.MaxHeight)
            throw new FrameSourceException($"Source '{_uri}' has {width}x{height} frames, more than Source:MaxWidth x MaxHeight " +
                $"({_options.MaxWidth}x{_options.MaxHeight}): refused before decoding. Raise the limit if such frames are expected.");
    }

    private VideoCapture NewCapture() =>
        _api == VideoCaptureAPIs.V4L2 && int.TryParse(_target.AsSpan("/dev/video".Length), out int index)
            ? new VideoCapture(index, VideoCaptureAPIs.V4L2)
            : new VideoCapture(_target, _api);

    private void Configure(VideoCapture capture)
    {
        if (_options.Fourcc.Length == 4) capture.Set(VideoCaptureProperties.FourCC, VideoWriter.FourCC(_options.Fourcc));
        if (_options.Width > 0) capture.Set(VideoCaptureProperties.FrameWidth, _options.Width);
        if (_options.Height > 0) capture.Set(VideoCaptureProperties.FrameHeight, _options.Height);
        if (_options.Fps > 0) capture.Set(VideoCaptureProperties.Fps, _options.Fps);
        // Keep the driver's queue short: a stale frame is worse than a dropped one.
        capture.Set(VideoCaptureProperties.BufferSize, 1);
    }

    public FrameReadStatus Read(Mat frame, out string? problem)
    {
        problem = null;
        if (IsLive) return ReadLive(frame, out problem);
        if (_capture is null)
        {
            problem = "source is not open";
            return FrameReadStatus.Fault;
        }
        bool ok;
        try
        {
            ok = _capture.Read(frame);
        }
        catch (OpenCVException ex)
        {
            problem = ex.Message;
            return FrameReadStatus.Fault;
        }
        if (ok && !frame.Empty())
        {
            _position++;
            if (_options.Realtime) Pace();
            return FrameReadStatus.Frame;
        }
        if (SkipDamage(frame, out string? skipped))
        {
            problem = skipped ?? LastDamage;
            return skipped is not null ? FrameReadStatus.Frame : FrameReadStatus.Fault;
        }
        if (_options.Loop && _capture.Set(VideoCaptureProperties.PosFrames, 0) && _capture.Read(frame) && !frame.Empty())
        {
            _pace.Restart();
            _framesSincePace = 1;
            _position = 1;
            return FrameReadStatus.Frame;
        }
        return FrameReadStatus.EndOfStream;
    }

    /// <summary>
    /// A file that stops giving frames before its last one (by the container's frame count) is damaged there, not ended:
    /// seek past the damage, frame by frame, up to <see cref="MaxSkip"/> frames. True when this was damage: then either a
    /// frame was read after it (<paramref name="problem"/> says which frames were skipped) or nothing could be (problem null:
    /// the caller reports a fault naming the frame).
    /// </summary>
    private bool SkipDamage(Mat frame, out string? problem)
    {
        problem = null;
        long count = (long)_capture!.Get(VideoCaptureProperties.FrameCount);
        long at = _position;
        if (count <= 0 || at >= count - 1) return false;
        for (long target = at + 1; target < count && target <= at + MaxSkip; target++)
        {
            if (!_capture.Set(VideoCaptureProperties.PosFrames, target) || !_capture.Read(frame) || frame.Empty()) continue;
            Skipped += target - at;
            _position = target + 1;
            problem = $"frame {at} of {count} could not be decoded; skipped {target - at} frame(s) to frame {target}";
            return true;
        }
        LastDamage = $"frame {at} of {count} could not be decoded and nothing after it could be read (tried {Math.Min(MaxSkip, count - at - 1)} frames on)";
        return true;
    }

    /// <summary>How far past a damaged frame a file is searched for the next readable one.</summary>
    public const int MaxSkip = 250;

    /// <summary>Frames skipped over damage since the source was created.</summary>
    public long Skipped { get; private set; }

    /// <summary>The damage that ended the file, when it did.</summary>
    public string? LastDamage { get; private set; }

    /// <summary>A live read on the worker thread, bounded by Source:TimeoutSeconds: a read that does not return is abandoned (timeout).</summary>
    private FrameReadStatus ReadLive(Mat frame, out string? problem)
    {
        problem = null;
        if (_live is null)
        {
            problem = "source is not open";
            return FrameReadStatus.Fault;
        }
        var timeout = TimeSpan.FromSeconds(_options.TimeoutSeconds);
        if (!_live.TryRead(frame, timeout, out bool ok, out problem))
        {
            _live = null; // abandoned: the worker frees it if its read ever returns
            problem = $"no frame for {_options.TimeoutSeconds:F1} s (the read is stuck in OpenCV's back-end; abandoned)";
            return FrameReadStatus.Timeout;
        }
        if (ok) return FrameReadStatus.Frame;
        problem ??= "the capture returned no frame";
        return FrameReadStatus.Fault;
    }

    /// <summary>Sleeps so that a file plays at its own frame rate.</summary>
    private void Pace()
    {
        if (_fps <= 0) return;
        _framesSincePace++;
        var due = TimeSpan.FromSeconds(_framesSincePace / _fps) - _pace.Elapsed;
        if (due > TimeSpan.Zero) Thread.Sleep(due);
    }

    public void Dispose()
    {
        _capture?.Dispose();
        _live?.Dispose();
    }
}
