using DANNet.Edge;
using DANNet.Edge.Configuration;

namespace DANNet.Edge.Tests.Configuration;

public sealed class EdgeConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly Dictionary<string, string?> NoEnvironment = [];

    private string Write(string json)
    {
        string path = Path.Combine(_dir, $"c{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Defaults_then_file_then_environment_then_command_line()
    {
        string file = Write("""{ "Source": { "Uri": "rtsp://cam/1", "Fps": 25 }, "Output": { "Slots": 6 }, "Run": { "Frames": 7 } }""");
        var env = new Dictionary<string, string?> { ["DANNET_EDGE_Output__Slots"] = "8", ["DANNET_EDGE_Source__Fps"] = "20", ["OTHER"] = "x" };
        var options = EdgeConfiguration.Load(file, new Dictionary<string, string?> { ["Source:Fps"] = "10" }, env);
        Assert.Equal("rtsp://cam/1", options.Source.Uri);   // file
        Assert.Equal(8, options.Output.Slots);              // environment over file
        Assert.Equal(10, options.Source.Fps);               // command line over environment
        Assert.Equal(7, options.Run.Frames);
        Assert.Equal(["tensorrt", "cuda", "cpu"], options.Model.Providers);   // default
        Assert.Equal("/dev/shm/dannet-edge/masks", options.Output.RingPath);
        Assert.Equal(0, options.Metrics.Port); // the Prometheus endpoint is off unless asked for
        Assert.True(options.Model.TensorRt.Fp16);
    }

    [Fact]
    public void The_shipped_car_configuration_is_valid()
    {
        string shipped = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "systemd", "dannet-edge.json"));
        // It names the installed model (systemd/install.sh --model puts it there), which this machine does not have: that one check is
        // pointed at the embedded model, everything else is validated as shipped.
        Assert.Contains("\"Path\": \"/var/lib/dannet-edge/models/model.onnx\"", File.ReadAllText(shipped));
        var options = EdgeConfiguration.Load(shipped, new Dictionary<string, string?> { ["Model:Path"] = EdgeDefaults.ModelPath }, NoEnvironment);
        Assert.Equal("v4l2:///dev/video0", options.Source.Uri);
        Assert.Equal("MJPG", options.Source.Fourcc);
        Assert.Equal(["tensorrt", "cuda", "cpu"], options.Model.Providers);
    }

    [Fact]
    public void A_configured_provider_list_replaces_the_default()
    {
        var options = EdgeConfiguration.Load(Write("""{ "Model": { "Providers": [ "cuda", "cpu" ] } }"""), new Dictionary<string, string?>(), NoEnvironment);
        Assert.Equal(["cuda", "cpu"], options.Model.Providers);
        var cli = EdgeConfiguration.Load(null, new Dictionary<string, string?> { ["Model:Providers:0"] = "cpu", ["Model:Providers:1"] = null }, NoEnvironment);
        Assert.Equal(["cpu"], cli.Model.Providers);
    }

    [Theory]
    [InlineData("""{ "Source": { "Uri": "x", "Colour": 1 } }""", "Colour")]
    [InlineData("""{ "Output": { "Slots": "many" } }""", "Slots")]
    [InlineData("""{ "Output": { "Slots": 1 } }""", "Output:Slots must be 2..1024")]
    [InlineData("""{ "Model": { "Providers": [ "gpu" ] } }""", "Model:Providers has 'gpu'")]
    [InlineData("""{ "Model": { "Path": "/nowhere/m.onnx" } }""", "Model:Path '/nowhere/m.onnx' does not exist")]
    [InlineData("""{ "Source": { "Fourcc": "MJPEG" } }""", "Source:Fourcc 'MJPEG' must be four characters")]
    [InlineData("""{ "Source": { "Width": 640 } }""", "Source:Width and Source:Height go together")]
    [InlineData("""{ "Source": { "ReconnectInitialSeconds": 5, "ReconnectMaxSeconds": 1 } }""", "ReconnectMaxSeconds must be at least")]
    [InlineData("""{ "Output": { "Directory": "/no/such/dir" } }""", "its parent folder does not exist")]
    [InlineData("""{ "Output": { "Path": "/dev/shm/dannet-edge/../../tmp/x" } }""", "must not contain '..'")]
    [InlineData("""{ "Output": { "Path": "/tmp/x" } }""", "is not a file directly in Output:Directory '/dev/shm/dannet-edge'")]
    [InlineData("""{ "Output": { "Path": "sub/ring" } }""", "is not a file directly in Output:Directory")]
    [InlineData("""{ "Output": { "Path": ".hidden" } }""", "is not a file directly in Output:Directory")]
    [InlineData("""{ "Output": { "Directory": "relative" } }""", "must be an absolute folder")]
    [InlineData("""{ "Output": { "Mode": "0666" } }""", "Output:Mode: Ring mode 0666 is not allowed")]
    [InlineData("""{ "Output": { "Mode": "0755" } }""", "Output:Mode: Ring mode 0755 is not allowed")]
    [InlineData("""{ "Output": { "Mode": "rw-r-----" } }""", "Output:Mode 'rw-r-----' must be octal")]
    [InlineData("""{ "Metrics": { "Port": 70000 } }""", "Metrics:Port must be 0 (off) or a TCP port 1..65535")]
    [InlineData("""{ "Metrics": { "Address": "localhost" } }""", "Metrics:Address 'localhost' must be an IP address")]
    [InlineData("""{ "Source": { "Uri": """, "not valid JSON")]
    [InlineData("""{ "Model": { "Resize": "bicubic" } }""", "Resize")]
    public void Bad_configurations_name_the_field_and_the_fix(string json, string message)
    {
        string file = Write(json);
        var ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(file, new Dictionary<string, string?>(), NoEnvironment));
        Assert.Contains(message, ex.Message);
        Assert.Contains(file, ex.Message);
    }

    [Fact]
    public void The_input_resize_is_a_model_setting_that_defaults_to_the_models_own()
    {
        Assert.Null(EdgeConfiguration.Load(null, new Dictionary<string, string?>(), NoEnvironment).Model.Resize);
        var options = EdgeConfiguration.Load(Write("""{ "Model": { "Resize": "antialiased" } }"""), new Dictionary<string, string?>(), NoEnvironment);
        Assert.Equal(DANNet.Edge.Contracts.InputResize.Antialiased, options.Model.Resize);
    }

    /// <summary>Round 2, item 9: the readers' variable (and any DANNET_EDGE_ variable that is not Section__Key) is not configuration.</summary>
    [Fact]
    public void Prefixed_variables_that_are_not_section_keys_are_ignored()
    {
        var env = new Dictionary<string, string?> { ["DANNET_EDGE_RING_OWNER"] = "root", ["DANNET_EDGE_SOMETHING"] = "x", ["DANNET_EDGE_Output__Slots"] = "6" };
        Assert.Equal(6, EdgeConfiguration.Load(null, new Dictionary<string, string?>(), env).Output.Slots);
    }

    /// <summary>Round 2, item 15: a huge, deep or broken configuration is refused at once with the reason (and its line).</summary>
    [Fact]
    public void Oversized_deep_or_broken_files_are_refused_with_the_reason()
    {
        string big = Write("{ \"Logging\": { \"LogLevel\": { \"Default\": \"" + new string('x', (int)EdgeConfiguration.MaxFileBytes) + "\" } } }");
        var ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(big, new Dictionary<string, string?>(), NoEnvironment));
        Assert.Contains($"a configuration holds at most {EdgeConfiguration.MaxFileBytes}", ex.Message);
        Assert.Contains(big, ex.Message);

        string many = Write("{ \"Logging\": { \"LogLevel\": { " + string.Join(", ", Enumerable.Range(0, 5000).Select(i => $"\"C{i}\": \"Warning\"")) + " } } }");
        ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(many, new Dictionary<string, string?>(), NoEnvironment));
        Assert.Contains($"holds 5002 settings; at most {EdgeConfiguration.MaxKeys}", ex.Message);

        string deep = Write(string.Concat(Enumerable.Repeat("{\"a\":", 40)) + "1" + new string('}', 40));
        ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(deep, new Dictionary<string, string?>(), NoEnvironment));
        Assert.Contains($"nested deeper than {EdgeConfiguration.MaxDepth} levels", ex.Message);

        string broken = Write("{\n  \"Output\": {\n    \"Slots\": 4,,\n  }\n}");
        ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(broken, new Dictionary<string, string?>(), NoEnvironment));
        Assert.Contains("is not valid JSON at line 3", ex.Message);

        var uri = new Dictionary<string, string?> { ["Source:Uri"] = "rtsp://" + new string('a', 50_000) };
        ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(null, uri, NoEnvironment));
        Assert.Contains($"Source:Uri is 50007 characters long; at most {EdgeOptionsValidator.MaxUriLength}", ex.Message);
        Assert.True(ex.Message.Length < 2000, "the error repeats the huge value");
    }

    /// <summary>Round 2, item 7: metrics addresses are checked at start; every interface (0.0.0.0, ::) is allowed, broadcast and multicast are not.</summary>
    [Theory]
    [InlineData("0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("::1", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("255.255.255.255", false)]
    [InlineData("239.1.2.3", false)]
    [InlineData("ff02::1", false)]
    [InlineData("localhost", false)]
    public void Metrics_addresses_are_ones_a_server_can_listen_on(string address, bool accepted)
    {
        var settings = new Dictionary<string, string?> { ["Metrics:Address"] = address, ["Metrics:Port"] = "9464" };
        if (accepted) Assert.Equal(address, EdgeConfiguration.Load(null, settings, NoEnvironment).Metrics.Address);
        else Assert.Contains($"Metrics:Address '{address}' must be an IP address of this machine",
            Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(null, settings, NoEnvironment)).Message);
    }

    [Fact]
    public void Several_problems_are_reported_together()
    {
        var ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(null,
            new Dictionary<string, string?> { ["Output:Slots"] = "0", ["Run:StatsIntervalSeconds"] = "0", ["Model:Threads"] = "-1" }, NoEnvironment));
        Assert.Contains("3 problem(s)", ex.Message);
    }

    [Fact]
    public void A_logging_section_is_accepted_and_an_unknown_section_is_named()
    {
        string file = Write("""{ "Logging": { "LogLevel": { "Default": "Warning" } }, "Output": { "Slots": 3 } }""");
        var configuration = EdgeConfiguration.Build(file, new Dictionary<string, string?>(), NoEnvironment);
        Assert.Equal(3, EdgeConfiguration.Bind(configuration, file).Output.Slots);
        Assert.Equal("Warning", configuration["Logging:LogLevel:Default"]);

        string typo = Write("""{ "Ouptut": { "Slots": 3 } }""");
        var ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(typo, new Dictionary<string, string?>(), NoEnvironment));
        Assert.Contains("unknown section(s) 'Ouptut'", ex.Message);
        Assert.Contains(typo, ex.Message);
    }

    [Fact]
    public void A_missing_configuration_file_is_named()
    {
        var ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(Path.Combine(_dir, "none.json"), new Dictionary<string, string?>(), NoEnvironment));
        Assert.Contains("none.json' does not exist", ex.Message);
    }

    [Fact]
    public void Cameras_come_from_the_file_the_environment_and_the_command_line_each_from_a_sources_defaults()
    {
        string file = Write("""{ "Cameras": { "front": { "Uri": "v4l2:///dev/video0", "Fps": 30 }, "rear": { "Uri": "rtsp://10.0.0.2/rear", "Loop": false } } }""");
        var options = EdgeConfiguration.Load(file, new Dictionary<string, string?> { ["Cameras:side:Uri"] = "/data/side.mp4" },
            new Dictionary<string, string?> { ["DANNET_EDGE_Cameras__rear__TimeoutSeconds"] = "2" });
        Assert.Equal(["front", "rear", "side"], options.Cameras.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(30, options.Cameras["front"].Fps);
        Assert.True(options.Cameras["front"].Loop);
        Assert.False(options.Cameras["rear"].Loop);
        Assert.Equal(2, options.Cameras["rear"].TimeoutSeconds);
        Assert.Equal(new SourceOptions().MaxWidth, options.Cameras["side"].MaxWidth);
        Assert.Equal(Path.Combine(Path.GetFullPath(options.Output.Directory), "rear"), options.Output.CameraRingPath("rear"));
    }

    [Theory]
    [InlineData("Cameras:Front:Uri", "x", "Cameras:Front: a camera name is 1-32 of a-z, 0-9, '-' and '_'")]
    [InlineData("Cameras:..:Uri", "x", "Cameras:..: a camera name is")]
    [InlineData("Cameras:-x:Uri", "x", "Cameras:-x: a camera name is")]
    [InlineData("Cameras:front:Fps", "30", "Cameras:front:Uri is empty")]
    [InlineData("Cameras:front:Bogus", "1", "Cameras:front:Bogus is not a setting")]
    [InlineData("Cameras:front", "v4l2:///dev/video0", "Cameras:front must be a section of settings")]
    [InlineData("Source:Uri", "v4l2:///dev/video0", "Source:Uri and Cameras are both set")]
    public void A_camera_configuration_that_cannot_work_is_refused_naming_the_key(string key, string value, string message)
    {
        var overrides = new Dictionary<string, string?> { [key] = value };
        if (key.StartsWith("Source", StringComparison.Ordinal)) overrides["Cameras:front:Uri"] = "v4l2:///dev/video1";
        var ex = Assert.Throws<ArgumentException>(() => EdgeConfiguration.Load(null, overrides, NoEnvironment));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void At_most_sixteen_cameras()
    {
        var overrides = Enumerable.Range(0, 17).ToDictionary(i => $"Cameras:c{i}:Uri", i => (string?)$"v4l2:///dev/video{i}");
        Assert.Contains("Cameras names 17 cameras; one daemon serves at most 16", Assert.Throws<ArgumentException>(() =>
            EdgeConfiguration.Load(null, overrides, NoEnvironment)).Message);
    }
}
