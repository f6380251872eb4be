using System.Globalization;
using DANNet.Edge.Configuration;
using OpenCvSharp;

namespace DANNet.Edge.Sources;

/// <summary>
/// Makes a frame source from a URI. The accepted forms (README, "Frame sources"):
/// <c>v4l2:///dev/videoN</c>, <c>csi://N</c>, <c>gst://&lt;pipeline&gt;</c>, <c>rtsp://…</c>,
/// <c>file:///path/video.mp4</c> (or a plain path to a video), and a folder of images
/// (<c>folder:///path</c> or a plain path to a folder).
/// </summary>
public static class FrameSourceFactory
{
    public static IFrameSource Create(SourceOptions options)
    {
        string uri = options.Uri.Trim();
        if (uri.Length == 0) throw new FrameSourceException("Source:Uri is empty: give a frame source, e.g. v4l2:///dev/video0 or file:///path/drive.mp4.");
        int sep = uri.IndexOf("://", StringComparison.Ordinal);
        string scheme = sep > 0 ? uri[..sep].ToLowerInvariant() : "";
        string rest = sep > 0 ? uri[(sep + 3)..] : uri;
        switch (scheme)
        {
            case "v4l2":
                if (!rest.StartsWith("/dev/video", StringComparison.Ordinal))
                    throw new FrameSourceException($"Source '{uri}': a V4L2 camera is v4l2:///dev/videoN.");
                return new VideoCaptureSource(uri, rest, VideoCaptureAPIs.V4L2, live: true, options);
            case "csi":
                if (!int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out int sensor))
                    throw new FrameSourceException($"Source '{uri}': a CSI camera is csi://N with N the sensor id, e.g. csi://0.");
                return new VideoCaptureSource(uri, ArgusPipeline(sensor, options), VideoCaptureAPIs.GSTREAMER, live: true, options);
            case "gst":
                if (rest.Length == 0) throw new FrameSourceException($"Source '{uri}': give a GStreamer pipeline ending in appsink after gst://.");
                return new VideoCaptureSource(uri, rest, VideoCaptureAPIs.GSTREAMER, live: true, options);
            case "rtsp" or "rtsps" or "http" or "https":
                // OpenCV's NuGet build cannot open network URLs; an ffmpeg process decodes them (and can be killed when it hangs).
                return new FfmpegSource(uri, options);
            case "file":
                return FromPath(uri, rest, options);
            case "folder":
                return new ImageFolderSource(uri, rest, options);
            case "":
                return FromPath(uri, rest, options);
            default:
                throw new FrameSourceException($"Source '{uri}': unknown scheme '{scheme}'. Use v4l2://, csi://, gst://, rtsp://, file:// or folder:// (README, 'Frame sources').");
        }
    }

    private static IFrameSource FromPath(string uri, string path, SourceOptions options)
    {
        if (Directory.Exists(path)) return new ImageFolderSource(uri, path, options);
        if (!File.Exists(path)) throw new FrameSourceException($"Source '{uri}': no file or folder at '{path}'.");
        RefusePlaylist(uri, path);
        return new VideoCaptureSource(uri, path, VideoCaptureAPIs.FFMPEG, live: false, options);
    }

    /// <summary>
    /// A recording is one file. A playlist (HLS .m3u8, M3U, ffmpeg's concat list) names other files, which the
    /// decoder would then open — any file the daemon's user can read, chosen by whoever wrote the playlist:
    /// refused, by content and by name.
    /// </summary>
    public static void RefusePlaylist(string uri, string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        Span<byte> head = stackalloc byte[16];
        int n;
        using (var stream = File.OpenRead(path)) n = stream.Read(head);
        string start = System.Text.Encoding.ASCII.GetString(head[..n]).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (ext is ".m3u8" or ".m3u" or ".pls" or ".ffconcat" || start.StartsWith("#EXTM3U", StringComparison.Ordinal)
            || start.StartsWith("ffconcat", StringComparison.Ordinal) || start.StartsWith("[playlist]", StringComparison.OrdinalIgnoreCase))
            throw new FrameSourceException($"Source '{uri}' is a playlist, not a recording: it names other files, which the decoder would read. " +
                "Give the recording itself (.mp4, .mkv, .avi, …), or an http(s):// URL for a live HLS stream.");
    }

    /// <summary>The Jetson Argus camera through GStreamer, converted to BGR for OpenCV, newest frame only.</summary>
    public static string ArgusPipeline(int sensor, SourceOptions o)
    {
        int w = o.Width > 0 ? o.Width : 1920, h = o.Height > 0 ? o.Height : 1080;
        int fps = o.Fps > 0 ? (int)Math.Round(o.Fps) : 30;
        return string.Create(CultureInfo.InvariantCulture,
            $"nvarguscamerasrc sensor-id={sensor} ! video/x-raw(memory:NVMM),width={w},height={h},framerate={fps}/1 ! nvvidconv ! " +
                $"video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false");
    }

    /// <summary>Whether this OpenCV build has a video back-end (from its build information).</summary>
    public static bool HasBackend(string name) => HasBackend(Cv2.GetBuildInformation(), name);

    /// <summary>Whether <paramref name="buildInformation"/> (OpenCV's build summary) lists the video I/O back-end <paramref name="name"/> as built in.</summary>
    public static bool HasBackend(string buildInformation, string name)
    {
        foreach (var line in buildInformation.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase)) return t.Contains("YES", StringComparison.OrdinalIgnoreCase);
        }
        return false;
    }
}
