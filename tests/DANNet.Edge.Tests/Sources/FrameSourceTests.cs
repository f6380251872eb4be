using DANNet.Edge.Configuration;
using DANNet.Edge.Pipeline;
using DANNet.Edge.Sources;
using OpenCvSharp;

namespace DANNet.Edge.Tests.Sources;

public sealed class FrameSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-sources-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("", "Source:Uri is empty")]
    [InlineData("mms://camera", "unknown scheme 'mms'")]
    [InlineData("v4l2://video0", "v4l2:///dev/videoN")]
    [InlineData("csi://front", "csi://N with N the sensor id")]
    [InlineData("gst://", "give a GStreamer pipeline")]
    [InlineData("file:///no/such/drive.mp4", "no file or folder at '/no/such/drive.mp4'")]
    public void Bad_uris_are_refused_with_the_accepted_form(string uri, string message)
    {
        var ex = Assert.Throws<FrameSourceException>(() => FrameSourceFactory.Create(new SourceOptions { Uri = uri }));
        Assert.Contains(message, ex.Message);
    }

    [Theory]
    [InlineData("  Video I/O:\n    FFMPEG:                      YES\n    GStreamer:                   NO\n", "GStreamer", false)]
    [InlineData("  Video I/O:\n    GStreamer:                   YES (1.22.0)\n    v4l/v4l2:                    YES (linux/videodev2.h)\n", "GStreamer", true)]
    [InlineData("  Video I/O:\n    GStreamer:                   YES (1.22.0)\n    v4l/v4l2:                    YES (linux/videodev2.h)\n", "v4l/v4l2", true)]
    [InlineData("  Video I/O:\n    FFMPEG:                      YES\n", "GStreamer", false)]
    [InlineData("  Video I/O:\n    gstreamer:                   yes\n", "GStreamer", true)]
    public void A_back_end_is_read_from_the_build_summary(string summary, string name, bool expected) =>
        Assert.Equal(expected, FrameSourceFactory.HasBackend(summary, name));

    /// <summary>
    /// Where OpenCV lacks GStreamer (NuGet's OpenCvSharp runtime, platform.md) the open fails saying
    /// so; where it has it (JetPack's OpenCV), a test pipeline delivers frames and a CSI camera
    /// either opens or fails naming its URI.
    /// </summary>
    [Theory]
    [InlineData("csi://0")]
    [InlineData("gst://videotestsrc num-buffers=5 ! video/x-raw,width=64,height=48 ! videoconvert ! appsink")]
    public void GStreamer_sources_open_where_the_backend_exists_and_say_why_not_where_it_does_not(string uri)
    {
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = uri });
        if (!MachineCapabilities.HasGStreamer)
        {
            var ex = Assert.Throws<FrameSourceException>(source.Open);
            Assert.Contains("GStreamer back-end", ex.Message);
            Assert.Contains(uri, ex.Message);
            return;
        }
        if (uri.StartsWith("csi://", StringComparison.Ordinal))
        {
            // A machine with GStreamer may or may not have a CSI camera: without one the open names the URI; with one it delivers a frame.
            try
            {
                source.Open();
            }
            catch (FrameSourceException ex)
            {
                Assert.Contains(uri, ex.Message);
                return;
            }
            using var camera = new OpenCvSharp.Mat();
            Assert.Equal(FrameReadStatus.Frame, source.Read(camera, out _));
            Assert.False(camera.Empty());
            return;
        }
        source.Open();
        using var frame = new OpenCvSharp.Mat();
        Assert.Equal(FrameReadStatus.Frame, source.Read(frame, out var problem));
        Assert.Null(problem);
        Assert.Equal(new OpenCvSharp.Size(64, 48), frame.Size());
    }

    [Fact]
    public void The_argus_pipeline_asks_for_the_configured_mode()
    {
        string pipeline = FrameSourceFactory.ArgusPipeline(1, new SourceOptions { Width = 1280, Height = 720, Fps = 60 });
        Assert.StartsWith("nvarguscamerasrc sensor-id=1 ! video/x-raw(memory:NVMM),width=1280,height=720,framerate=60/1", pipeline);
        Assert.EndsWith("appsink drop=true max-buffers=1 sync=false", pipeline);
    }

    [Fact]
    public void A_missing_camera_is_a_clear_open_error()
    {
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = "v4l2:///dev/video97" });
        Assert.True(source.IsLive);
        var ex = Assert.Throws<FrameSourceException>(source.Open);
        Assert.Contains("v4l2:///dev/video97", ex.Message);
        Assert.Contains("is the device connected", ex.Message);
    }

    private string MakeVideo(int frames)
    {
        string path = Path.Combine(_dir, "clip.avi");
        using var writer = new VideoWriter(path, FourCC.MJPG, 30, new Size(64, 48));
        Assert.True(writer.IsOpened());
        for (int i = 0; i < frames; i++)
        {
            using var m = new Mat(48, 64, MatType.CV_8UC3, Scalar.All(20 * i));
            writer.Write(m);
        }
        return path;
    }

    [Fact]
    public void A_video_file_ends_or_loops_and_is_told_apart_from_a_fault()
    {
        string path = MakeVideo(5);
        using var frame = new Mat();
        using (var once = FrameSourceFactory.Create(new SourceOptions { Uri = "file://" + path, Loop = false, Realtime = false }))
        {
            Assert.False(once.IsLive);
            once.Open();
            int n = 0;
            while (once.Read(frame, out _) == FrameReadStatus.Frame)
            {
                Assert.Equal(new Size(64, 48), frame.Size());
                n++;
            }
            Assert.Equal(5, n);
            Assert.Equal(FrameReadStatus.EndOfStream, once.Read(frame, out _));
        }
        using var looping = FrameSourceFactory.Create(new SourceOptions { Uri = path, Loop = true, Realtime = false });
        looping.Open();
        for (int i = 0; i < 12; i++) Assert.Equal(FrameReadStatus.Frame, looping.Read(frame, out _));
    }

    [Fact]
    public void A_damaged_frame_mid_file_is_skipped_and_reported_not_taken_for_the_end()
    {
        string path = MakeVideo(60);
        // Wipe frames 25..34 of the AVI, headers and data, as a bad block on a recorder's card would.
        var bytes = File.ReadAllBytes(path);
        var chunk = "00dc"u8.ToArray();
        var starts = Enumerable.Range(0, bytes.Length - 8).Where(i => bytes.AsSpan(i, 4).SequenceEqual(chunk)).ToList();
        bytes.AsSpan(starts[25], starts[35] - starts[25]).Clear();
        File.WriteAllBytes(path, bytes);

        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = "file://" + path, Loop = false, Realtime = false });
        source.Open();
        using var frame = new Mat();
        int frames = 0;
        var problems = new List<string>();
        FrameReadStatus status;
        while ((status = source.Read(frame, out string? problem)) == FrameReadStatus.Frame)
        {
            frames++;
            if (problem is not null) problems.Add(problem);
        }
        Assert.True(status == FrameReadStatus.EndOfStream, $"{status} after {frames} frames");
        Assert.True(problems.Count == 1, $"{problems.Count} problems after {frames} frames");
        var reported = problems[0];
        Assert.Contains("could not be decoded; skipped", reported);
        Assert.InRange(frames, 40, 59); // reading went on past the wiped frames to the end (how many are lost is up to the demuxer's seek)

        // Cut short instead (a recording that ended badly): nothing after the damage, so a fault that names the frame.
        File.WriteAllBytes(path, bytes[..starts[25]]);
        using var cut = FrameSourceFactory.Create(new SourceOptions { Uri = "file://" + path, Loop = false, Realtime = false });
        cut.Open();
        int read = 0;
        string? why = null;
        while ((status = cut.Read(frame, out why)) == FrameReadStatus.Frame) read++;
        Assert.Equal(FrameReadStatus.Fault, status);
        Assert.Contains($"frame {read} of 60 could not be decoded and nothing after it could be read", why);
    }

    [Fact]
    public void A_live_read_or_open_stuck_in_opencv_is_abandoned_at_the_timeout()
    {
        // A camera stand-in OpenCV really blocks on: a FIFO. First with no writer (OpenCV's open blocks), then with a writer that
        // sends a few frames and goes silent (OpenCV's read blocks).
        string fifo = Path.Combine(_dir, "camera.avi");
        var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo])!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        var options = new SourceOptions { Uri = "fifo", TimeoutSeconds = 1 };
        using (var silent = new VideoCaptureSource("fifo://camera", fifo, VideoCaptureAPIs.FFMPEG, live: true, options))
        {
            var ex = Assert.Throws<FrameSourceException>(silent.Open);
            Assert.Contains("no answer within 1 s", ex.Message);
        }
        // Let the abandoned open go: open the FIFO for writing once and close it.
        using (var unblock = new FileStream(fifo, FileMode.Open, FileAccess.Write)) { }

        string clip = MakeVideo(10);
        // The writer keeps the FIFO open after the frames (fd 3), so the next read waits for data that never comes.
        var writer = System.Diagnostics.Process.Start("sh", ["-c", $"exec 3>'{fifo}'; cat '{clip}' >&3; sleep 30"])!;
        try
        {
            using var camera = new VideoCaptureSource("fifo://camera", fifo, VideoCaptureAPIs.FFMPEG, live: true, options);
            camera.Open();
            using var frame = new Mat();
            var seen = new List<FrameReadStatus>();
            string? why = null;
            for (int i = 0; i < 12 && (seen.Count == 0 || seen[^1] == FrameReadStatus.Frame); i++) seen.Add(camera.Read(frame, out why));
            Assert.True(seen.Count(s => s == FrameReadStatus.Frame) >= 5, string.Join(",", seen));
            Assert.Equal(FrameReadStatus.Timeout, seen[^1]);
            Assert.Contains("stuck in OpenCV's back-end; abandoned", why);
            // The source opens anew after an abandoned read (the capture stage does this on its reconnect path).
            Assert.Equal(FrameReadStatus.Fault, camera.Read(frame, out why));
            Assert.Equal("source is not open", why);
        }
        finally
        {
            writer.Kill(entireProcessTree: true);
        }
    }

    /// <summary>
    /// Round 2, items 13 and 4: a text file named .png and a PNG whose header declares 16000x16000 pixels are skipped
    /// and counted (the huge one before decoding); the images after them are still read.
    /// </summary>
    [Fact]
    public void A_folder_of_images_reads_in_name_order_and_skips_bad_and_oversized_images()
    {
        for (int i = 0; i < 3; i++) Cv2.ImWrite(Path.Combine(_dir, $"f{i}.png"), new Mat(8, 8, MatType.CV_8UC3, Scalar.All(50 * i)));
        File.WriteAllText(Path.Combine(_dir, "f3.png"), "not an image");
        File.WriteAllBytes(Path.Combine(_dir, "f4.png"), PngHeader(16000, 16000));
        Cv2.ImWrite(Path.Combine(_dir, "f5.png"), new Mat(8, 8, MatType.CV_8UC3, Scalar.All(250)));
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = "folder://" + _dir, Loop = false });
        source.Open();
        using var frame = new Mat();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(FrameReadStatus.Frame, source.Read(frame, out string? none));
            Assert.Null(none);
            Assert.Equal(50 * i, frame.At<Vec3b>(0, 0).Item0);
        }
        Assert.Equal(FrameReadStatus.Frame, source.Read(frame, out string? problem));
        Assert.Equal(250, frame.At<Vec3b>(0, 0).Item0);
        Assert.Contains("skipped 2 image(s): 'f3.png' is not a readable image; 'f4.png' is 16000x16000, over Source:MaxWidth x MaxHeight (7680x4320)", problem);
        Assert.Equal(FrameReadStatus.EndOfStream, source.Read(frame, out _));
        Assert.Throws<FrameSourceException>(() => FrameSourceFactory.Create(new SourceOptions { Uri = "folder://" + Path.Combine(_dir, "none") }).Open());
    }

    /// <summary>The first 33 bytes of a PNG (signature and IHDR) declaring the given size; no pixels.</summary>
    private static byte[] PngHeader(int width, int height)
    {
        var bytes = new byte[33];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(bytes, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
        bytes[24] = 8;
        bytes[25] = 2;
        return bytes;
    }

    /// <summary>Round 2, item 4: a recording whose container declares frames over the limit is refused before a frame is decoded.</summary>
    [Fact]
    public void A_recording_with_frames_over_the_limit_is_refused_before_decoding()
    {
        string path = MakeVideo(3);
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = path, MaxWidth = 32, MaxHeight = 32 });
        var ex = Assert.Throws<FrameSourceException>(source.Open);
        Assert.Contains("more than Source:MaxWidth x MaxHeight (32x32): refused before decoding", ex.Message);
    }

    /// <summary>Round 2, item 12: a playlist names other local files the decoder would read; it is refused by content and by name.</summary>
    [Theory]
    [InlineData("drive.m3u8", "#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10,\nfile:///tmp/private.ts\n")]
    [InlineData("drive.mp4", "#EXTM3U\n#EXTINF:10,\n/etc/passwd\n")]
    [InlineData("list.txt", "ffconcat version 1.0\nfile '/root/secret.mp4'\n")]
    public void A_playlist_is_not_a_recording(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        var ex = Assert.Throws<FrameSourceException>(() => FrameSourceFactory.Create(new SourceOptions { Uri = path }));
        Assert.Contains("is a playlist, not a recording", ex.Message);
    }

    [Fact]
    public void Reconnect_delays_double_up_to_the_cap()
    {
        Assert.Equal([0.5, 1, 2, 4, 8, 16, 30, 30], Enumerable.Range(0, 8).Select(a => ReconnectDelays.Delay(a, 0.5, 30).TotalSeconds));
        Assert.Equal(30, ReconnectDelays.Delay(1000, 0.5, 30).TotalSeconds);
    }
}
