using DANNet.Model;
using DANNet.Edge.Cli;
using DANNet.Edge.Configuration;
using DANNet.Edge.SharedMemory;
using Microsoft.Extensions.Logging;

namespace DANNet.Edge.Tests.Service;

/// <summary>The daemon end to end on this machine: embedded model, embedded night drive, CPU fallback, a real ring.</summary>
[Collection(SharedMemory.RingProcessCollection.Name)]
public sealed class RunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task Run_segments_the_embedded_drive_into_the_ring_and_stops_cleanly()
    {
        string ring = Path.Combine(_dir, "ring");
        var options = EdgeConfiguration.Load(null, new Dictionary<string, string?>
        {
            ["Output:Directory"] = _dir, ["Output:Path"] = ring, ["Run:Frames"] = "6", ["Model:Threads"] = "1", ["Model:WarmupFrames"] = "1", ["Source:Realtime"] = "false",
        }, new Dictionary<string, string?>());
        Assert.Equal(0, await RunCommand.RunAsync(options, CancellationToken.None));

        using var reader = MaskRingReader.Open(ring);
        Assert.Equal(WriterState.Stopped, reader.WriterStatus(TimeSpan.FromSeconds(5)));
        Assert.Equal(6UL, reader.FramesPublished); // Run:Frames is exact: no frame after the last is taken
        Assert.Equal(6UL, reader.LatestFrameId);
        Assert.Equal("pspnet-r18i-l16", reader.Model);
        Assert.Equal((480, 272), (reader.Geometry.Width, reader.Geometry.Height));
        var mask = new byte[reader.Geometry.MaskBytes];
        Assert.Equal(ReadStatus.Frame, reader.TryReadLatest(mask, out var frame));
        Assert.True(frame.PublishNs > frame.CaptureNs);
        Assert.All(mask, v => Assert.InRange(v, (byte)0, (byte)18));
        // A night street: road at the bottom centre, not a single class everywhere.
        Assert.True(mask.Distinct().Count() >= 3);
    }

    /// <summary>
    /// The session lands on the first provider that loads on this machine (probed directly through
    /// ONNX Runtime): here the CPU after logging why TensorRT and CUDA could not load; on a CUDA
    /// desktop or a Jetson, the GPU, with no warning for it.
    /// </summary>
    [Fact]
    public void Each_provider_that_cannot_load_is_logged_with_the_reason_and_the_next_one_used()
    {
        string[] order = ["tensorrt", "cuda", "cpu"];
        var log = new ListLogger();
        using var session = SegmentationSession.Open(EdgeDefaults.ModelPath, new ModelOptions { Providers = order, Threads = 1 }, log);
        string expected = MachineCapabilities.FirstAvailable(order)!;
        Assert.Equal(expected, session.Provider.Name());
        var warnings = log.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        foreach (var skipped in order.TakeWhile(p => p != expected))
            Assert.Contains(warnings, w => w.Contains($"{skipped} could not be used") && w.Contains(".so"));
        Assert.DoesNotContain(warnings, w => w.Contains($"{expected} could not be used"));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains($"runs on the {expected} execution provider"));
    }

    /// <summary>Only CUDA asked for: it runs there where CUDA loads; elsewhere the error says to add the CPU.</summary>
    [Fact]
    public void Without_cpu_as_a_last_resort_a_missing_gpu_is_an_error_that_says_so()
    {
        var options = new ModelOptions { Providers = ["cuda"], Threads = 1 };
        if (MachineCapabilities.ProviderAvailable("cuda"))
        {
            using var session = SegmentationSession.Open(EdgeDefaults.ModelPath, options, new ListLogger());
            Assert.Equal(ExecutionProvider.Cuda, session.Provider);
            return;
        }
        var ex = Assert.Throws<InvalidDataException>(() => SegmentationSession.Open(EdgeDefaults.ModelPath, options, new ListLogger()));
        Assert.Contains("Add cpu to Model:Providers", ex.Message);
        Assert.Contains(EdgeDefaults.ModelPath, ex.Message);
    }

    [Fact]
    public async Task A_camera_that_cannot_open_is_retried_and_a_file_that_cannot_open_fails_the_run()
    {
        Dictionary<string, string?> Settings(string uri) => new()
        {
            ["Output:Directory"] = _dir, ["Output:Path"] = "ring2", ["Source:Uri"] = uri, ["Model:WarmupFrames"] = "0",
            ["Source:ReconnectInitialSeconds"] = "0.2", ["Source:ReconnectMaxSeconds"] = "0.4",
            ["Model:Providers:0"] = "cpu", ["Model:Providers:1"] = null, ["Model:Providers:2"] = null,
        };
        // A camera not there (yet): the service keeps retrying it until stopped, then ends normally.
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
            Assert.Equal(0, await RunCommand.RunAsync(EdgeConfiguration.Load(null, Settings("v4l2:///dev/video97"), new Dictionary<string, string?>()), stop.Token));
        using (var reader = MaskRingReader.Open(Path.Combine(_dir, "ring2"))) Assert.Equal(0UL, reader.FramesPublished);
        // A file that is not a video: nothing to retry, the run fails.
        string notVideo = Path.Combine(_dir, "drive.mp4");
        File.WriteAllText(notVideo, "not a video");
        Assert.Equal(1, await RunCommand.RunAsync(EdgeConfiguration.Load(null, Settings("file://" + notVideo), new Dictionary<string, string?>()), CancellationToken.None));
    }

    [Fact]
    public void The_command_line_refuses_a_bad_configuration_with_exit_code_2()
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(2, RunCommand.Create().Parse(["--providers", "gpu,cpu", "--output", Path.Combine(_dir, "r")]).Invoke());
            // A ring path that climbs out of the writer's folder is refused before anything is opened or replaced.
            Assert.Equal(2, RunCommand.Create().Parse(["--output", "/dev/shm/dannet-edge/../../tmp/x"]).Invoke());
        }
        finally { Console.SetError(original); }
        Assert.Contains("Model:Providers has 'gpu'", error.ToString());
        Assert.Contains("must not contain '..'", error.ToString());
    }

    /// <summary>
    /// Three cameras in one daemon (the case): a device that does not exist, a recording that ends, the night drive. The drive's ring
    /// keeps filling after the recording ended, the missing camera's ring exists and stays empty, and 'tap --list' names all three.
    /// </summary>
    [Fact]
    public void Several_cameras_run_in_one_daemon_and_one_cameras_fault_stops_none_of_the_others()
    {
        string images = TestImages.Folder(_dir);
        string rings = Path.Combine(_dir, "rings"), config = Path.Combine(_dir, "cameras.json");
        // The recording is configured in the file (it must not loop); the other two come from the command line.
        File.WriteAllText(config, $$"""{ "Cameras": { "rear": { "Uri": "{{images}}", "Loop": false, "Realtime": false } } }""");
        var (code, output) = SharedMemory.RingProcesses.Edge("run", "--config", config, "--providers", "cpu", "--frames", "14",
            "--output", Path.Combine(rings, "unused"), "--camera", "front=v4l2:///dev/video-none", "--camera", $"side={EdgeDefaults.VideoPath}");
        Assert.True(code == 0, output);
        using (var side = MaskRingReader.Open(Path.Combine(rings, "side"), null))
        using (var front = MaskRingReader.Open(Path.Combine(rings, "front"), null))
        using (var rear = MaskRingReader.Open(Path.Combine(rings, "rear"), null))
        {
            Assert.Equal(0UL, front.FramesPublished);
            Assert.Equal(14UL, front.FramesPublished + rear.FramesPublished + side.FramesPublished);
            Assert.InRange(rear.FramesPublished, 1UL, 3UL);   // three images, the newest of each camera wins
            Assert.True(side.FramesPublished >= 11, $"side published {side.FramesPublished}");
        }
        Assert.Contains("Camera rear ended; the other cameras go on", output);
        var (listed, list) = SharedMemory.RingProcesses.Edge("tap", "--path", Path.Combine(rings, "x"), "--list");
        Assert.Equal(0, listed);
        foreach (var name in new[] { "front", "rear", "side" }) Assert.Contains(name + " ", list);
        Assert.DoesNotContain(".lock", list);
        // One camera's ring by its name, in both readers; a name that is not one (a path) is refused.
        var (tapCode, tap) = SharedMemory.RingProcesses.Edge("tap", "--path", Path.Combine(rings, "x"), "--camera", "side", "--frames", "1", "--any-writer", "--json");
        Assert.True(tapCode == 0, tap);
        Assert.Equal(1, SharedMemory.RingProcesses.LastJson(tap).GetProperty("framesRead").GetInt64());
        var (pyCode, py) = SharedMemory.RingProcesses.Python("--path", Path.Combine(rings, "x"), "--camera", "side", "--frames", "1", "--any-writer", "--json");
        Assert.True(pyCode == 0, py);
        Assert.Equal(1, SharedMemory.RingProcesses.LastJson(py).GetProperty("framesRead").GetInt64());
        Assert.Contains("is not a camera name", SharedMemory.RingProcesses.Edge("tap", "--path", Path.Combine(rings, "x"), "--camera", "../side").Output);
        Assert.Contains("is not a camera name", SharedMemory.RingProcesses.Python("--path", Path.Combine(rings, "x"), "--camera", "../side").Output);
    }
}
