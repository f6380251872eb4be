using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DANNet.Edge.Configuration;
using DANNet.Edge.Sources;
using DANNet.Edge.Tests.SharedMemory;
using OpenCvSharp;
using Xunit.Abstractions;

namespace DANNet.Edge.Tests.Sources;

/// <summary>
/// Network cameras for real, on 127.0.0.1: an RTSP server (Debian's rtsp-server-perl relay, fed H.264 by an ffmpeg publisher)
/// and ffmpeg's own one-client HTTP server (MPEG-TS), decoded by the ffmpeg source; the RTSP server goes away and comes back.
/// </summary>
[Collection(RingProcessCollection.Name)]
public sealed class NetworkSourceTests(ITestOutputHelper log) : IDisposable
{
    private readonly List<Process> _servers = [];

    public void Dispose()
    {
        foreach (var p in _servers.Where(p => !p.HasExited)) p.Kill(entireProcessTree: true);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private Process Serve(string file, params string[] args)
    {
        var p = RingProcesses.Start(file, args);
        _servers.Add(p);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static readonly string Drive = EdgeDefaults.VideoPath;

    /// <summary>An RTSP relay on two free ports and an ffmpeg publishing the night drive to it (looping, paced, H.264).</summary>
    private (Process Server, Process Publisher, string Url) Rtsp(int clients, int sources)
    {
        var server = Serve("rtsp-server-perl", "-c", clients.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-s", sources.ToString(System.Globalization.CultureInfo.InvariantCulture), "-l", "1");
        WaitForPort(sources);
        var publisher = Serve("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", Drive, "-c:v", "libx264", "-preset", "ultrafast",
            "-tune", "zerolatency", "-g", "15", "-f", "rtsp", $"rtsp://127.0.0.1:{sources}/drive");
        return (server, publisher, $"rtsp://127.0.0.1:{clients}/drive");
    }

    private static void WaitForPort(int port)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) { Thread.Sleep(50); }
        }
        Assert.Fail($"nothing listens on 127.0.0.1:{port} after 20 s");
    }

    /// <summary>Opens the source, retrying while the stream is not up yet (the publisher needs a moment), and reads <paramref name="frames"/> frames.</summary>
    private static void ReadFrames(IFrameSource source, int frames, Size expected)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                source.Open();
                break;
            }
            catch (FrameSourceException) when (clock.Elapsed < TimeSpan.FromSeconds(30)) { Thread.Sleep(300); }
        }
        using var frame = new Mat();
        for (int i = 0; i < frames; i++)
        {
            Assert.Equal(FrameReadStatus.Frame, source.Read(frame, out string? problem));
            Assert.Null(problem);
            Assert.Equal(expected, frame.Size());
        }
        // A real picture: the night drive is dark but not black, and not one flat colour.
        Cv2.MeanStdDev(frame, out var mean, out var std);
        Assert.InRange(mean.Val0, 1, 200);
        Assert.True(std.Val0 > 1);
    }

    [Fact]
    public void An_rtsp_camera_decodes_and_is_reconnected_after_its_server_went_away()
    {
        int clients = FreePort(), sources = FreePort();
        var (server, publisher, url) = Rtsp(clients, sources);
        var options = new SourceOptions { Uri = url, TimeoutSeconds = 3 };
        using var source = FrameSourceFactory.Create(options);
        Assert.True(source.IsLive);
        ReadFrames(source, 10, new Size(640, 360));
        log.WriteLine(source.Description);

        publisher.Kill();
        server.Kill();
        server.WaitForExit();
        using var frame = new Mat();
        var status = source.Read(frame, out string? why);
        for (int i = 0; i < 200 && status == FrameReadStatus.Frame; i++) status = source.Read(frame, out why); // frames still in flight
        Assert.NotEqual(FrameReadStatus.Frame, status);
        log.WriteLine($"server gone: {status}: {why}");
        Assert.Contains("Connection refused", Assert.Throws<FrameSourceException>(source.Open).Message);

        Rtsp(clients, sources);
        ReadFrames(source, 5, new Size(640, 360));
    }

    [Fact]
    public void An_rtsp_stream_runs_through_the_daemon_into_the_ring()
    {
        var (_, _, url) = Rtsp(FreePort(), FreePort());
        string dir = Directory.CreateTempSubdirectory("dannet-rtsp-").FullName;
        try
        {
            var (code, output) = RingProcesses.Edge("run", "--source", url, "--output", Path.Combine(dir, "masks"), "--providers", "cpu", "--frames", "5");
            log.WriteLine(output);
            Assert.Equal(0, code);
            using var reader = DANNet.Edge.SharedMemory.MaskRingReader.Open(Path.Combine(dir, "masks"));
            Assert.Equal(5UL, reader.FramesPublished);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void An_http_stream_decodes_scaled_to_the_configured_size()
    {
        int port = FreePort();
        // One client only, so nothing probes the port: the source's open is retried until the server listens.
        Serve("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", Drive, "-c:v", "mpeg2video", "-q:v", "5",
            "-f", "mpegts", "-listen", "1", $"http://127.0.0.1:{port}/drive.ts");
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = $"http://127.0.0.1:{port}/drive.ts", Width = 320, Height = 180, TimeoutSeconds = 5 });
        ReadFrames(source, 10, new Size(320, 180));
    }

    /// <summary>
    /// Round 2, item 2: a stream titled like ffmpeg's own stream line must not choose the frame size (it chose
    /// 99999x99999 and the daemon tried to allocate 30 GB); the real 320x240 is read.
    /// </summary>
    [Fact]
    public void A_stream_whose_title_looks_like_a_stream_line_does_not_choose_the_frame_size()
    {
        int port = FreePort();
        Serve("ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", Drive, "-vf", "scale=320:240", "-c:v", "mpeg4", "-q:v", "5",
            "-metadata", "title=Stream #0:0: Video: h264, 99999x99999", "-f", "matroska", "-listen", "1", $"http://127.0.0.1:{port}/drive.mkv");
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = $"http://127.0.0.1:{port}/drive.mkv", TimeoutSeconds = 5 });
        ReadFrames(source, 5, new Size(320, 240));
    }

    [Fact]
    public void A_stream_that_stops_sending_times_out_within_the_configured_time()
    {
        // A server that accepts the connection and then says nothing: the read must not hang.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var accept = Task.Run(() =>
        {
            using var client = silent.AcceptTcpClient();
            Thread.Sleep(15_000);
        });
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = $"http://127.0.0.1:{port}/x", TimeoutSeconds = 2 });
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<FrameSourceException>(source.Open);
        Assert.Contains("could not be opened by ffmpeg within 2 s", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"open took {clock.Elapsed.TotalSeconds:F1} s"); // a hang guard, not a timing claim
    }
}
