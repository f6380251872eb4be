using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using DANNet.Edge.Configuration;
using OpenCvSharp;

namespace DANNet.Edge.Sources;

/// <summary>
/// A network camera (<c>rtsp://</c>, <c>rtsps://</c>, <c>http(s)://</c>) decoded by an <c>ffmpeg</c>
/// process that writes raw BGR frames to its standard output. The NuGet OpenCV build cannot open
/// network URLs at all (platform.md), and a decoder in its own process can be killed when it hangs —
/// an OpenCV read cannot. The frame size comes from ffmpeg's own stream report on the same
/// connection (a one-client server accepts no second one for probing) — only from a line that
/// starts as ffmpeg starts a stream line, never from metadata the stream sends (ffmpeg prints a
/// metadata value indented behind its key, so a title cannot begin a line) — and must lie within
/// 16x16 .. <c>Source:MaxWidth x MaxHeight</c>; <c>Source:Width/Height</c> scale it. Every read is bounded by <c>Source:TimeoutSeconds</c>: a read that takes longer kills
/// the decoder, and the capture stage reconnects with back-off.
/// </summary>
public sealed partial class FfmpegSource(string uri, SourceOptions options) : IFrameSource
{
    private Process? _ffmpeg;
    private Stream? _frames;
    private readonly List<string> _log = [];
    private Timer? _deadline;
    private volatile bool _timedOut;
    private int _width, _height;

    public string Description => $"{uri} (ffmpeg {_width}x{_height})";

    public bool IsLive => true;

    /// <summary>Whether an ffmpeg executable is on PATH.</summary>
    public static bool Available() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => d.Length > 0 && File.Exists(Path.Combine(d, "ffmpeg")));

    public void Open()
    {
        Close();
        if (!Available())
            throw new FrameSourceException($"Source '{uri}': network streams are decoded by ffmpeg, which is not installed (apt install ffmpeg; " +
                "on a Jetson, JetPack's ffmpeg or the distribution's).");
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in Arguments()) info.ArgumentList.Add(a);
        var ffmpeg = Process.Start(info) ?? throw new FrameSourceException($"Source '{uri}': ffmpeg could not be started.");
        lock (_log) _log.Clear();
        var size = new TaskCompletionSource<(int, int)>(TaskCreationOptions.RunContinuationsAsynchronously);
        ffmpeg.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                size.TrySetResult((0, 0));
                return;
            }
            lock (_log)
            {
                _log.Add(e.Data);
                if (_log.Count > 50) _log.RemoveAt(0);
            }
            // "Stream #0:0: Video: ..., 640x360 ..." — after any -vf scale, the output stream's line is the one that counts.
            // A stream's metadata (a title) is printed indented behind its key: it cannot start a line as these do.
            if (e.Data.StartsWith("Output #0", StringComparison.Ordinal)) _outputSeen = true;
            else if (_outputSeen && StreamSize().Match(e.Data) is { Success: true } m)
                size.TrySetResult((int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)));
        };
        _outputSeen = false;
        ffmpeg.BeginErrorReadLine();
        if (!size.Task.Wait(TimeSpan.FromSeconds(options.TimeoutSeconds)) || size.Task.Result.Item1 == 0)
        {
            Kill(ffmpeg);
            throw new FrameSourceException($"Source '{uri}' could not be opened by ffmpeg within {options.TimeoutSeconds:F0} s: {LastLines()}");
        }
        (_width, _height) = size.Task.Result;
        if (_width < 16 || _height < 16 || _width > options.MaxWidth || _height > options.MaxHeight)
        {
            Kill(ffmpeg);
            throw new FrameSourceException($"Source '{uri}' sends {_width}x{_height} frames, outside 16x16 .. Source:MaxWidth x MaxHeight " +
                $"({options.MaxWidth}x{options.MaxHeight}): refused. Set Source:Width/Height to scale it, or raise the limit if such frames are expected.");
        }
        _ffmpeg = ffmpeg;
        _frames = ffmpeg.StandardOutput.BaseStream;
        _deadline = new Timer(_ =>
        {
            _timedOut = true;
            Kill(ffmpeg);
        });
    }

    private volatile bool _outputSeen;

    private List<string> Arguments()
    {
        var args = new List<string> { "-hide_banner", "-nostdin", "-loglevel", "info" };
        // RTSP: ffmpeg's default transport, RTP over UDP with a fall-back to TCP (some servers, e.g. relays, only do UDP).
        // Low latency: a short probe (a second of stream, not ffmpeg's default five), no input buffering, newest frames.
        args.AddRange(["-probesize", "1M", "-analyzeduration", "1M", "-fflags", "nobuffer", "-flags", "low_delay", "-i", uri, "-an", "-sn", "-dn"]);
        if (options.Width > 0 && options.Height > 0) args.AddRange(["-vf", $"scale={options.Width}:{options.Height}"]);
        args.AddRange(["-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]);
        return args;
    }

    [GeneratedRegex(@"^  Stream #\d+:\d+\S*: Video: .*?, (\d{1,5})x(\d{1,5})")]
    private static partial Regex StreamSize();

    public unsafe FrameReadStatus Read(Mat frame, out string? problem)
    {
        problem = null;
        if (_frames is null || _ffmpeg is null)
        {
            problem = "source is not open";
            return FrameReadStatus.Fault;
        }
        if (frame.Rows != _height || frame.Cols != _width || frame.Type() != MatType.CV_8UC3) frame.Create(_height, _width, MatType.CV_8UC3);
        int bytes = _width * _height * 3, done = 0;
        var target = new Span<byte>((void*)frame.DataPointer, bytes);
        // The deadline kills the decoder if this read takes longer than the timeout: the blocked read then returns.
        _deadline!.Change(TimeSpan.FromSeconds(options.TimeoutSeconds), Timeout.InfiniteTimeSpan);
        try
        {
            while (done < bytes)
            {
                int n = _frames.Read(target[done..]);
                if (n == 0) break;
                done += n;
            }
        }
        catch (IOException ex)
        {
            problem = ex.Message;
            return FrameReadStatus.Fault;
        }
        finally
        {
            _deadline.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        if (done == bytes) return FrameReadStatus.Frame;
        if (_timedOut)
        {
            problem = $"no frame for {options.TimeoutSeconds:F1} s (the decoder was stopped)";
            return FrameReadStatus.Timeout;
        }
        _ffmpeg.WaitForExit(1000);
        problem = $"the stream ended ({LastLines()})";
        return FrameReadStatus.Fault;
    }

    private string LastLines()
    {
        lock (_log)
        {
            var lines = _log.Where(l => !l.StartsWith("  ", StringComparison.Ordinal) && !l.StartsWith("Input #", StringComparison.Ordinal)).TakeLast(2).ToList();
            return lines.Count == 0 ? "ffmpeg said nothing" : string.Join(" / ", lines).Trim();
        }
    }

    private static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited) p.Kill();
        }
        catch (InvalidOperationException) { }
    }

    private void Close()
    {
        _deadline?.Dispose();
        _deadline = null;
        _timedOut = false;
        if (_ffmpeg is { } p)
        {
            Kill(p);
            p.WaitForExit(2000);
            p.Dispose();
        }
        _ffmpeg = null;
        _frames = null;
    }

    public void Dispose() => Close();
}
