using System.Diagnostics;
using System.Globalization;
using DANNet.Edge.Sources;
using DANNet.Model.IO;
using OpenCvSharp;

namespace DANNet.Edge.Replay;

/// <summary>
/// A video written frame by frame and placed under its name only when complete: <c>.avi</c> as MJPG by OpenCV's own writer,
/// <c>.mp4</c> as H.264 (yuv420p, faststart) by an <c>ffmpeg</c> process fed raw BGR frames on its standard input (the NuGet
/// OpenCV build cannot encode H.264; platform.md). The frames go to a fresh temporary file (<see cref="AtomicFile.CreateTemp"/>);
/// <see cref="Finish"/> reads it back and renames it into place only if it holds every frame written. Every frame is written at
/// the first frame's size (a folder of images of several sizes is scaled to it). Dispose without Finish: nothing is left.
/// </summary>
public sealed class OverlayVideo : IDisposable
{
    private readonly string _path, _option;
    private readonly double _fps;
    private string? _temp;
    private VideoWriter? _opencv;
    private Process? _ffmpeg;
    private Stream? _stdin;
    private readonly List<string> _ffmpegLog = [];
    private Size _size;
    private readonly Mat _scaled = new();

    /// <summary>Checks the name before any frame is made: <c>.avi</c> always, <c>.mp4</c> when ffmpeg is installed.</summary>
    public OverlayVideo(string path, double fps, string option = "--overlay")
    {
        _path = path;
        _option = option;
        _fps = fps is > 0 and < 1000 ? fps : 10;
        Format = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".avi" => "MJPG .avi",
            ".mp4" => FfmpegSource.Available() ? "H.264 .mp4"
                : throw new ArgumentException($"{option} '{path}': .mp4 (H.264) is encoded by ffmpeg, which is not installed (apt install ffmpeg); or name a .avi (MJPG)."),
            _ => throw new ArgumentException($"{option} '{path}': give a name ending in .avi (MJPG, written by OpenCV) or .mp4 (H.264, written by ffmpeg)."),
        };
    }

    /// <summary>"MJPG .avi" or "H.264 .mp4".</summary>
    public string Format { get; }

    /// <summary>Frames written so far.</summary>
    public long Frames { get; private set; }

    /// <summary>The size every frame is written at (the first frame's), or empty before the first.</summary>
    public Size Size => _size;

    public void Write(Mat frame)
    {
        if (_temp is null) Start(frame.Size());
        var image = frame;
        if (frame.Size() != _size)
        {
            Cv2.Resize(frame, _scaled, _size, 0, 0, InterpolationFlags.Area);
            image = _scaled;
        }
        if (_opencv is not null) _opencv.Write(image);
        else WriteRaw(image);
        Frames++;
    }

    private void Start(Size size)
    {
        _size = size;
        _temp = AtomicFile.CreateTemp(_path);
        if (Format.EndsWith(".avi", StringComparison.Ordinal))
        {
            _opencv = new VideoWriter(_temp, FourCC.MJPG, _fps, size);
            if (!_opencv.IsOpened()) throw new IOException($"{_option} '{_path}': OpenCV cannot write MJPG video there.");
            return;
        }
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
            "-s", $"{size.Width}x{size.Height}", "-r", _fps.ToString("0.###", CultureInfo.InvariantCulture), "-i", "pipe:0",
            // yuv420p (what players expect) needs even sides: an odd frame gets one black column or row.
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", "-f", "mp4", _temp,
        }) info.ArgumentList.Add(a);
        _ffmpeg = Process.Start(info) ?? throw new IOException($"{_option} '{_path}': ffmpeg could not be started.");
        _ffmpeg.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_ffmpegLog) if (_ffmpegLog.Count < 20) _ffmpegLog.Add(e.Data);
        };
        _ffmpeg.BeginErrorReadLine();
        _stdin = _ffmpeg.StandardInput.BaseStream;
    }

    private void WriteRaw(Mat image)
    {
        int rowBytes = image.Cols * 3, rows = image.Rows;
        try
        {
            unsafe
            {
                if (image.IsContinuous()) _stdin!.Write(new ReadOnlySpan<byte>((byte*)image.DataPointer, rowBytes * rows));
                else
                    for (int y = 0; y < rows; y++) _stdin!.Write(new ReadOnlySpan<byte>((byte*)image.Ptr(y), rowBytes));
            }
        }
        catch (IOException ex)
        {
            throw new IOException($"{_option} '{_path}': ffmpeg stopped taking frames at frame {Frames} ({FfmpegSays() ?? ex.Message}).", ex);
        }
    }

    private string? FfmpegSays()
    {
        lock (_ffmpegLog) return _ffmpegLog.Count == 0 ? null : string.Join(" ", _ffmpegLog.TakeLast(3));
    }

    /// <summary>Closes the video, reads it back and renames it into place; a video that does not hold every frame is not kept.</summary>
    public void Finish()
    {
        if (_temp is null) return; // no frame: no video
        if (_opencv is not null)
        {
            _opencv.Release();
            _opencv.Dispose();
            _opencv = null;
        }
        if (_ffmpeg is not null)
        {
            _stdin!.Dispose();
            _stdin = null;
            if (!_ffmpeg.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                _ffmpeg.Kill();
                throw new IOException($"{_option} '{_path}': ffmpeg did not finish the video within 2 minutes; not kept.");
            }
            _ffmpeg.WaitForExit();
            int code = _ffmpeg.ExitCode;
            _ffmpeg.Dispose();
            _ffmpeg = null;
            if (code != 0) throw new IOException($"{_option} '{_path}': ffmpeg failed (exit {code}: {FfmpegSays() ?? "no message"}); not kept.");
        }
        long written;
        using (var check = new VideoCapture(_temp)) written = check.IsOpened() ? (long)check.Get(VideoCaptureProperties.FrameCount) : -1;
        if (written != Frames)
            throw new IOException($"{_option} '{_path}': the video holds {written} of the {Frames} frames written (is the disk full?); not kept.");
        File.Move(_temp, Path.GetFullPath(_path), overwrite: true);
        _temp = null;
    }

    public void Dispose()
    {
        _opencv?.Release();
        _opencv?.Dispose();
        if (_ffmpeg is not null)
        {
            try
            {
                _stdin?.Dispose();
            }
            catch (IOException)
            {
                // ffmpeg already gone: nothing to flush.
            }
            if (!_ffmpeg.WaitForExit(TimeSpan.FromSeconds(10))) _ffmpeg.Kill();
            _ffmpeg.Dispose();
        }
        if (_temp is not null) File.Delete(_temp);
        _scaled.Dispose();
    }
}
