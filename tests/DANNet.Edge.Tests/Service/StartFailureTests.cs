using DANNet.Edge.Tests.SharedMemory;

namespace DANNet.Edge.Tests.Service;

/// <summary>
/// How `dannet-edge run` refuses to start, as a process (what systemd sees): one line on stderr, no
/// stack trace, exit code 2 for a configuration or usage error (the unit's RestartPreventExitStatus)
/// and 1 for a runtime failure, every configuration problem named at once, and nothing touched — no
/// model loaded and no ring made — when the configuration or the source is wrong.
/// </summary>
[Collection(RingProcessCollection.Name)]
public sealed class StartFailureTests() : RingFolderTests("dannet-start-")
{
    private (int Code, string Output) Run(params string[] args) =>
        RingProcesses.Edge(["run", "--output", Path.Combine(Dir, "masks"), .. args]);

    private static void OneLine(string output, string expected)
    {
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.DoesNotContain("   at ", output);
        Assert.Contains(expected, output);
    }

    [Fact]
    public void A_missing_video_fails_before_the_model_or_the_ring_is_touched()
    {
        var (code, output) = Run("--source", "file:///no/such/drive.mp4");
        Assert.Equal(1, code);
        OneLine(output, "dannet-edge: cannot start: Source 'file:///no/such/drive.mp4': no file or folder at '/no/such/drive.mp4'.");
        Assert.DoesNotContain("Model ", output);
        Assert.False(File.Exists(Path.Combine(Dir, "masks")));
    }

    [Fact]
    public void Every_configuration_problem_is_listed_at_once_with_exit_code_2()
    {
        string config = Path.Combine(Dir, "bad.json");
        File.WriteAllText(config, """
            { "Run": { "StatsIntervalSeconds": 1e10, "Bogus": 1 },
              "Model": { "Providers": [], "Threads": "many" },
              "Source": { "Fps": "x", "TimeoutSeconds": 0 },
              "Output": { "Mode": "0666" } }
            """);
        var (code, output) = Run("--config", config);
        Assert.Equal(2, code);
        OneLine(output, "has 7 problem(s)");
        foreach (var problem in new[] { "Source:Fps 'x' is not a number", "Model:Providers is empty", "Model:Threads 'many' is not a whole number",
                     "Run:Bogus is not a setting", "Run:StatsIntervalSeconds must be 0.1..86400", "Source:TimeoutSeconds must be more than 0",
                     "Output:Mode: Ring mode 0666 is not allowed" })
            Assert.Contains(problem, output);
        Assert.False(Directory.Exists(Path.Combine(Dir, "masks")));
    }

    /// <summary>Round 2, item 8: what is wrong before the model loads is found before it loads — exit 2, one line each.</summary>
    [Fact]
    public void A_missing_group_a_second_writer_a_busy_metrics_port_and_a_flag_typo_are_exit_2_before_the_model()
    {
        string ring = Path.Combine(Dir, "masks");
        var group = RingProcesses.Finish(RingProcesses.Start("env", "DANNET_EDGE_Output__Group=no-such-group", "dotnet", RingProcesses.EdgeDll, "run", "--output", ring));
        Assert.Equal(2, group.Code);
        OneLine(group.Output, "Output:Group: Ring readers' group 'no-such-group' does not exist");
        Assert.DoesNotContain("Model ", group.Output);

        using (var writer = RingProcesses.Start("dotnet", RingProcesses.EdgeDll, "publish-test-pattern", "--path", ring, "--seconds", "30", "--fps", "10"))
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!File.Exists(ring) && DateTime.UtcNow < deadline) Thread.Sleep(50);
            var second = Run();
            writer.Kill(true);
            Assert.Equal(2, second.Code);
            OneLine(second.Output, $"Output: another writer (pid {writer.Id}) is publishing to '{ring}'");
            Assert.DoesNotContain("Model ", second.Output);
        }

        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        int port = ((System.Net.IPEndPoint)busy.LocalEndpoint).Port;
        var metrics = RingProcesses.Finish(RingProcesses.Start("env", $"DANNET_EDGE_Metrics__Port={port}", "dotnet", RingProcesses.EdgeDll, "run",
            "--output", Path.Combine(Dir, "m2")));
        Assert.Equal(2, metrics.Code);
        OneLine(metrics.Output, $"Metrics:Port {port} on 127.0.0.1 cannot be served");
        Assert.DoesNotContain("Model ", metrics.Output);

        var typo = Run("--framez", "3");
        Assert.Equal(2, typo.Code);
        OneLine(typo.Output, "--framez");
    }

    /// <summary>Round 2, item 9: the readers' variable in the daemon's environment is not a configuration section.</summary>
    [Fact]
    public void The_readers_owner_variable_does_not_stop_the_daemon()
    {
        var (code, output) = RingProcesses.Finish(RingProcesses.Start("env", "DANNET_EDGE_RING_OWNER=root", "dotnet", RingProcesses.EdgeDll, "run",
            "--output", Path.Combine(Dir, "masks"), "--frames", "1", "--providers", "cpu"));
        Assert.True(code == 0, output);
        Assert.DoesNotContain("unknown section", output);
    }

    [Fact]
    public void A_folder_as_model_or_config_and_an_unknown_provider_are_usage_errors()
    {
        var model = Run("--model", Dir);
        Assert.Equal(2, model.Code);
        OneLine(model.Output, $"Model:Path '{Dir}' is a folder: give the .onnx file in it.");
        var config = Run("--config", Dir);
        Assert.Equal(2, config.Code);
        OneLine(config.Output, $"Configuration file '{Dir}' is a folder");
    }

    [Fact]
    public void A_provider_list_without_cpu_that_cannot_load_says_to_add_it_and_exits_1()
    {
        string[] gpus = ["tensorrt", "cuda"];
        if (MachineCapabilities.FirstAvailable(gpus) is { } available)
        {
            // A GPU machine: the list works; the failure path cannot be provoked with real providers here.
            var ok = RingProcesses.Edge("run", "--output", Path.Combine(Dir, "masks"), "--providers", available, "--frames", "1");
            Assert.Equal(0, ok.Code);
            return;
        }
        var (code, output) = RingProcesses.Edge("run", "--output", Path.Combine(Dir, "masks"), "--providers", "cuda");
        Assert.Equal(1, code);
        OneLine(output, "dannet-edge: cannot start: ONNX Runtime cannot load");
        Assert.Contains("Add cpu to Model:Providers as the last resort.", output);
    }

    [Fact]
    public void Sighup_does_not_stop_the_daemon()
    {
        var daemon = RingProcesses.Start("dotnet", RingProcesses.EdgeDll, "run", "--output", Path.Combine(Dir, "masks"), "--providers", "cpu");
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(Dir, "masks")) && clock.Elapsed < TimeSpan.FromSeconds(60) && !daemon.HasExited) Thread.Sleep(50);
            Assert.True(File.Exists(Path.Combine(Dir, "masks")), "the daemon did not start");
            using (var hup = System.Diagnostics.Process.Start("kill", ["-HUP", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!) hup.WaitForExit();
            Thread.Sleep(1500);
            Assert.False(daemon.HasExited, "SIGHUP killed the daemon");
            using (var term = System.Diagnostics.Process.Start("kill", ["-TERM", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!) term.WaitForExit();
            var (code, output) = RingProcesses.Finish(daemon);
            Assert.Equal(0, code);
            Assert.Contains("SIGHUP: dannet-edge reads its configuration only at start", output);
            using var reader = DANNet.Edge.SharedMemory.MaskRingReader.Open(Path.Combine(Dir, "masks"));
            Assert.Equal(DANNet.Edge.SharedMemory.WriterState.Stopped, reader.WriterStatus(TimeSpan.FromSeconds(5))); // not a dead pid left behind
        }
        finally
        {
            if (!daemon.HasExited) daemon.Kill();
        }
    }

    [Fact]
    public void A_drive_with_damaged_frames_is_played_to_its_end_and_the_exit_code_says_so()
    {
        string video = Path.Combine(Dir, "drive.avi");
        using (var writer = new OpenCvSharp.VideoWriter(video, OpenCvSharp.FourCC.MJPG, 30, new OpenCvSharp.Size(64, 48)))
            for (int i = 0; i < 40; i++)
                using (var m = new OpenCvSharp.Mat(48, 64, OpenCvSharp.MatType.CV_8UC3, OpenCvSharp.Scalar.All(5 * i))) writer.Write(m);
        var bytes = File.ReadAllBytes(video);
        var starts = Enumerable.Range(0, bytes.Length - 4).Where(i => bytes.AsSpan(i, 4).SequenceEqual("00dc"u8)).ToList();
        bytes.AsSpan(starts[15], starts[20] - starts[15]).Clear();
        File.WriteAllBytes(video, bytes);
        var (code, output) = RingProcesses.Finish(RingProcesses.Start("sh", "-c", $"DANNET_EDGE_Source__Loop=false DANNET_EDGE_Source__Realtime=false exec dotnet " +
            $"{RingProcesses.EdgeDll} run --output {Path.Combine(Dir, "masks")} --providers cpu --source file://{video}"));
        Assert.Equal(3, code);
        Assert.Contains("could not be decoded; skipped", output);
        Assert.Contains("exit code 3", output);
        using var reader = DANNet.Edge.SharedMemory.MaskRingReader.Open(Path.Combine(Dir, "masks"));
        Assert.InRange(reader.FramesPublished, 1UL, 35UL); // frames after the damage were published too (latest-wins may drop some)
    }
}
