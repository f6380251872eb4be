using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using DANNet.Edge.Pipeline;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Tests.SharedMemory;
using Xunit.Abstractions;

namespace DANNet.Edge.Tests.Service;

/// <summary>
/// The sd_notify protocol as systemd would see it: the daemon runs as a child of a process named
/// "systemd" (how .NET's systemd integration recognises a service) with NOTIFY_SOCKET pointing at a
/// datagram socket this test reads, and WATCHDOG_USEC set.
/// </summary>
[Collection(RingProcessCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NotifyTests(ITestOutputHelper log) : RingFolderTests("dannet-notify-")
{
    private sealed class FakeSystemd : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        private readonly List<(TimeSpan At, string Text)> _messages = [];
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Thread _reader;

        public FakeSystemd(string path)
        {
            Path = path;
            _socket.Bind(new UnixDomainSocketEndPoint(path));
            _reader = new Thread(() =>
            {
                var buffer = new byte[4096];
                try
                {
                    while (true)
                    {
                        int n = _socket.Receive(buffer);
                        foreach (var line in Encoding.UTF8.GetString(buffer, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                            lock (_messages) _messages.Add((_clock.Elapsed, line));
                    }
                }
                catch (SocketException) { }
                catch (ObjectDisposedException) { }
            }) { IsBackground = true };
            _reader.Start();
        }

        public string Path { get; }

        public List<(TimeSpan At, string Text)> Messages { get { lock (_messages) return [.. _messages]; } }

        public TimeSpan Now => _clock.Elapsed;

        public bool WaitFor(Func<string, bool> match, TimeSpan timeout) => WaitForCount(m => match(m.Text), 1, timeout);

        /// <summary>Waits until at least <paramref name="count"/> messages match (a state reached, not a time slept: the machine may be busy).</summary>
        public bool WaitForCount(Func<(TimeSpan At, string Text), bool> match, int count, TimeSpan timeout)
        {
            var until = _clock.Elapsed + timeout;
            while (_clock.Elapsed < until)
            {
                if (Messages.Count(match) >= count) return true;
                Thread.Sleep(20);
            }
            return false;
        }

        public void Dispose() => _socket.Dispose();
    }

    /// <summary>
    /// The watchdog interval the tests give the daemon. It pings every half interval; 2 s leaves a busy machine (CI beside a training
    /// run on two cores) a whole second of slack before a gap would reach the interval.
    /// </summary>
    private static readonly TimeSpan WatchdogInterval = TimeSpan.FromSeconds(2);

    /// <summary>dannet-edge run under a parent process named "systemd" (a copy of sh), with the notify socket and the watchdog above.</summary>
    private Process Daemon(FakeSystemd systemd, params string[] args)
    {
        string parent = Path.Combine(Dir, "systemd");
        if (!File.Exists(parent)) File.Copy("/bin/sh", parent);
        File.SetUnixFileMode(parent, (UnixFileMode)Convert.ToInt32("755", 8));
        string command = "dotnet " + RingProcesses.EdgeDll + " run --output " + Path.Combine(Dir, "masks") + " --providers cpu " + string.Join(' ', args) + "; exit $?";
        var info = new ProcessStartInfo(parent) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        info.Environment["NOTIFY_SOCKET"] = systemd.Path;
        info.Environment["WATCHDOG_USEC"] = ((long)WatchdogInterval.TotalMicroseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Process.Start(info)!;
    }

    private static void Stop(Process daemon)
    {
        // The shell forwards nothing: signal the daemon itself (the shell's only child).
        foreach (var child in File.ReadAllText($"/proc/{daemon.Id}/task/{daemon.Id}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
            using (var kill = Process.Start("kill", ["-TERM", child])!) kill.WaitForExit();
    }

    [Fact]
    public void Ready_comes_after_the_first_mask_pings_follow_publishing_and_stopping_is_announced()
    {
        using var systemd = new FakeSystemd(Path.Combine(Dir, "notify.sock"));
        var daemon = Daemon(systemd);
        try
        {
            Assert.True(systemd.WaitFor(m => m == "READY=1", TimeSpan.FromSeconds(90)), "no READY=1");
            using (var reader = MaskRingReader.Open(Path.Combine(Dir, "masks"))) Assert.True(reader.LatestFrameId >= 1, "READY before the first mask");
            var ready = systemd.Now;
            Assert.True(systemd.WaitForCount(m => m.Text == "WATCHDOG=1" && m.At > ready, 4, TimeSpan.FromSeconds(60)), "fewer than 4 pings after READY=1 in 60 s");
            Stop(daemon);
            var (code, output) = RingProcesses.Finish(daemon);
            var messages = systemd.Messages;
            log.WriteLine(string.Join("\n", messages.Select(m => $"{m.At.TotalSeconds:F2} {m.Text}")));
            Assert.Equal(0, code);
            var texts = messages.Select(m => m.Text).ToList();
            Assert.Contains(texts, t => t.StartsWith("EXTEND_TIMEOUT_USEC=", StringComparison.Ordinal));
            Assert.True(texts.IndexOf("STATUS=loading model") < texts.IndexOf("READY=1"));
            Assert.Contains(texts, t => t.StartsWith("STATUS=cpu,", StringComparison.Ordinal) && t.Contains("source reading", StringComparison.Ordinal));
            Assert.Contains("STOPPING=1", texts);
            // Pings every half interval while masks flow, so no gap reaches the interval, after which systemd would kill the service.
            var pings = messages.Where(m => m.Text == "WATCHDOG=1" && m.At > ready).Select(m => m.At).ToList();
            Assert.All(pings.Zip(pings.Skip(1)), p => Assert.True(p.Second - p.First < WatchdogInterval, $"a {(p.Second - p.First).TotalSeconds:F2} s gap"));
            Assert.DoesNotContain("Unhandled", output);
        }
        finally
        {
            if (!daemon.HasExited) daemon.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void Pings_continue_while_a_missing_camera_is_retried()
    {
        using var systemd = new FakeSystemd(Path.Combine(Dir, "notify.sock"));
        // No such camera: the first open fails and is retried with back-off (0.5 s doubling to 1 s), not an exit.
        var daemon = Daemon(systemd, "--source", "v4l2:///dev/video97");
        try
        {
            Assert.True(systemd.WaitFor(m => m == "READY=1", TimeSpan.FromSeconds(90)), "no READY=1 while reconnecting");
            var ready = systemd.Now;
            bool pinged = systemd.WaitForCount(m => m.Text == "WATCHDOG=1" && m.At > ready, 3, TimeSpan.FromSeconds(60));
            var messages = systemd.Messages;
            log.WriteLine(string.Join("\n", messages.Select(m => $"{m.At.TotalSeconds:F2} {m.Text}")));
            Assert.True(pinged, "fewer than 3 pings in 60 s while reconnecting");
            Assert.False(daemon.HasExited, "the daemon gave up on the camera");
            Assert.Contains(messages, m => m.Text.Contains("source reconnecting (attempt", StringComparison.Ordinal));
            Stop(daemon);
            Assert.Equal(0, RingProcesses.Finish(daemon).Code);
        }
        finally
        {
            if (!daemon.HasExited) daemon.Kill(entireProcessTree: true);
        }
    }

    /// <summary>
    /// Three cameras under systemd's protocol: a missing device, a recording that ends, the night drive. READY comes with the first mask,
    /// STATUS names each camera's state, and the pings go on after the recording ended (the drive publishes, the device is retried).
    /// </summary>
    [Fact]
    public void Several_cameras_report_each_state_and_keep_the_watchdog_fed_when_one_ends()
    {
        string images = TestImages.Folder(Dir);
        string config = Path.Combine(Dir, "cameras.json");
        File.WriteAllText(config, $$"""{ "Cameras": { "rear": { "Uri": "{{images}}", "Loop": false, "Realtime": false } } }""");
        using var systemd = new FakeSystemd(Path.Combine(Dir, "notify.sock"));
        var daemon = Daemon(systemd, "--config", config, "--camera", "front=v4l2:///dev/video96", "--camera", $"side={DANNet.Edge.EdgeDefaults.VideoPath}");
        try
        {
            Assert.True(systemd.WaitFor(m => m == "READY=1", TimeSpan.FromSeconds(90)), "no READY=1");
            // The states to reach, however busy the machine: the recording ended while the drive is read (its first masks take
            // seconds on a loaded CPU), then pings go on.
            bool reached = systemd.WaitFor(m => m.Contains("rear ended", StringComparison.Ordinal) && m.Contains("side reading", StringComparison.Ordinal),
                TimeSpan.FromSeconds(90));
            var ended = systemd.Now;
            bool pinged = reached && systemd.WaitForCount(m => m.Text == "WATCHDOG=1" && m.At > ended, 4, TimeSpan.FromSeconds(60));
            var messages = systemd.Messages;
            log.WriteLine(string.Join("\n", messages.Select(m => $"{m.At.TotalSeconds:F2} {m.Text}")));
            Assert.True(reached, "no STATUS with the recording ended and the drive being read");
            Assert.True(pinged, "fewer than 4 pings in 60 s after the recording ended");
            Assert.False(daemon.HasExited, "one camera's end stopped the daemon");
            var last = messages.Last(m => m.Text.StartsWith("STATUS=cpu,", StringComparison.Ordinal)).Text;
            Assert.Contains("front reconnecting (attempt", last);
            Assert.Contains("rear ended", last);
            Assert.Contains("side reading", last);
            Stop(daemon);
            Assert.Equal(0, RingProcesses.Finish(daemon).Code);
        }
        finally
        {
            if (!daemon.HasExited) daemon.Kill(entireProcessTree: true);
        }
    }
}

public sealed class LivenessTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public void Publishing_or_visible_reconnecting_keeps_the_service_alive_and_a_stall_does_not()
    {
        long now = (long)MonotonicClock.NowNs, second = 1_000_000_000;
        var reading = new SourceHealth();
        reading.Reading();
        Assert.True(Liveness.ShouldPing(now, now - 2 * second, reading, Interval));     // a mask 2 s ago
        Assert.False(Liveness.ShouldPing(now, now - 11 * second, reading, Interval));   // reading, but nothing published for 11 s: inference stalled

        var reconnecting = new SourceHealth();
        reconnecting.Reconnecting(3, TimeSpan.FromSeconds(30));
        Assert.True(Liveness.ShouldPing(now, now - 60 * second, reconnecting, Interval)); // no masks for a minute, but the capture thread is at work
        Assert.StartsWith("reconnecting (attempt 3, next in ", reconnecting.Describe());
        // The same state, but the capture thread has not moved for longer than the interval: stuck, no ping.
        Assert.False(Liveness.ShouldPing(now + 11 * second, now - 60 * second, reconnecting, Interval));
        Assert.Equal(1, reconnecting.Reconnects);

        var ended = new SourceHealth();
        ended.Ended();
        Assert.False(Liveness.ShouldPing(now, now - 11 * second, ended, Interval));
    }
}
