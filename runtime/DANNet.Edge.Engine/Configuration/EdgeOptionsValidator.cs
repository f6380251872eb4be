using DANNet.Model;
using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Configuration;

/// <summary>Checks a configuration before anything opens; every problem names the field and the fix.</summary>
public static class EdgeOptionsValidator
{
    /// <summary>The longest Source:Uri accepted (it is logged and handed to OpenCV or ffmpeg).</summary>
    public const int MaxUriLength = 4096;

    /// <summary>The most cameras one daemon serves.</summary>
    public const int MaxCameras = 16;

    /// <summary>
    /// Whether <paramref name="name"/> can name a camera (it becomes its ring's file name): 1–32 of a–z, 0–9, '-' and '_', starting with
    /// a letter or a digit (so never '.', '..', a hidden file or a path).
    /// </summary>
    public static bool IsCameraName(string name) =>
        name.Length is >= 1 and <= 32 && (char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0]))
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');

    /// <summary>The problems of one camera's source settings; <paramref name="key"/> is where they are configured (Source, Cameras:front).</summary>
    private static IEnumerable<string> SourceProblems(SourceOptions s, string key)
    {
        var p = new List<string>();
        void Check(bool ok, string problem) { if (!ok) p.Add(problem); }
        Check(s.Uri.Length <= MaxUriLength, $"{key}:Uri is {s.Uri.Length} characters long; at most {MaxUriLength} (a device, a file path or a stream URL).");
        Check(s.Width is >= 0 and <= RingGeometry.MaxSide && s.Height is >= 0 and <= RingGeometry.MaxSide,
            $"{key}:Width/Height must be 0..{RingGeometry.MaxSide} (0 keeps the device's default).");
        Check(s.MaxWidth is >= 16 and <= RingGeometry.MaxSide && s.MaxHeight is >= 16 and <= RingGeometry.MaxSide,
            $"{key}:MaxWidth/MaxHeight must be 16..{RingGeometry.MaxSide}.");
        Check(s.Width <= s.MaxWidth && s.Height <= s.MaxHeight, $"{key}:Width/Height must not exceed {key}:MaxWidth/MaxHeight.");
        Check((s.Width == 0) == (s.Height == 0), $"{key}:Width and {key}:Height go together: set both or neither.");
        Check(s.Fps is >= 0 and <= 1000, $"{key}:Fps must be 0..1000 (0 keeps the device's default).");
        Check(s.Fourcc.Length is 0 or 4, $"{key}:Fourcc '{s.Fourcc}' must be four characters, e.g. MJPG or YUYV (or empty).");
        Check(s.TimeoutSeconds is > 0 and <= 3600, $"{key}:TimeoutSeconds must be more than 0 and at most 3600, e.g. 5.");
        Check(s.ReconnectInitialSeconds is > 0 and <= 3600, $"{key}:ReconnectInitialSeconds must be more than 0 and at most 3600, e.g. 0.5.");
        Check(s.ReconnectMaxSeconds >= s.ReconnectInitialSeconds, $"{key}:ReconnectMaxSeconds must be at least {key}:ReconnectInitialSeconds.");
        Check(s.ReconnectMaxSeconds <= 3600, $"{key}:ReconnectMaxSeconds must be at most 3600.");
        return p;
    }

    public static IReadOnlyList<string> Problems(EdgeOptions o)
    {
        var p = new List<string>();
        void Check(bool ok, string problem) { if (!ok) p.Add(problem); }
        Check(o.Cameras.Count <= MaxCameras, $"Cameras names {o.Cameras.Count} cameras; one daemon serves at most {MaxCameras}.");
        Check(o.Cameras.Count == 0 || o.Source.Uri.Length == 0,
            "Source:Uri and Cameras are both set: give one camera as Source, or every camera under Cameras (Cameras:<name>:Uri).");
        foreach (var (name, camera) in o.Cameras.Take(MaxCameras))
        {
            Check(IsCameraName(name), $"Cameras:{name.ReplaceLineEndings(" ")}: a camera name is 1-32 of a-z, 0-9, '-' and '_' (it names the camera's ring file).");
            Check(camera.Uri.Length > 0, $"Cameras:{name}:Uri is empty: give the camera's source (v4l2:///dev/video0, rtsp://…, a file).");
            p.AddRange(SourceProblems(camera, $"Cameras:{name}"));
        }
        p.AddRange(SourceProblems(o.Source, "Source"));
        var m = o.Model;
        Check(m.Providers.Length > 0, $"Model:Providers is empty: list at least one of {ExecutionProviderNames.Listed} (cpu always works).");
        foreach (var provider in m.Providers)
            Check(ExecutionProviderNames.TryParse(provider, out _), $"Model:Providers has '{provider}': use {ExecutionProviderNames.Listed} (lower case).");
        Check(m.Providers.Distinct(StringComparer.Ordinal).Count() == m.Providers.Length, "Model:Providers lists a provider twice.");
        Check(m.Path.Length == 0 || File.Exists(m.Path) || Directory.Exists(m.Path),
            $"Model:Path '{m.Path}' does not exist: export one with 'dannet-train export', or leave it empty for the embedded model.");
        Check(!Directory.Exists(m.Path), $"Model:Path '{m.Path}' is a folder: give the .onnx file in it.");
        Check(m.Threads is >= 0 and <= 256, "Model:Threads must be 0..256 (0: ONNX Runtime's default).");
        Check(m.DeviceId is >= 0 and <= 64, "Model:DeviceId must be 0..64.");
        Check(m.WarmupFrames is >= 0 and <= 1000, "Model:WarmupFrames must be 0..1000.");
        Check(m.BatchWindowMs is >= 0 and <= 1000, "Model:BatchWindowMs must be 0..1000 (ms).");
        Check(m.TensorRt.WorkspaceMb is > 0 and <= 1 << 20, "Model:TensorRt:WorkspaceMb must be 1..1048576, e.g. 1024.");
        Check(m.TensorRt.BuilderOptimizationLevel is >= 0 and <= 5, "Model:TensorRt:BuilderOptimizationLevel must be 0..5.");
        Check(!m.TensorRt.Int8 || m.TensorRt.Int8CalibrationTable.Length == 0 || File.Exists(m.TensorRt.Int8CalibrationTable),
            $"Model:TensorRt:Int8CalibrationTable '{m.TensorRt.Int8CalibrationTable}' does not exist: make one with dannet-calibrate.");
        OutputProblems(o.Output, Check);
        Check(o.Output.Slots is >= RingGeometry.MinSlots and <= RingGeometry.MaxSlots, $"Output:Slots must be {RingGeometry.MinSlots}..{RingGeometry.MaxSlots}, got {o.Output.Slots}.");
        Check(o.Metrics.Port is >= 0 and <= 65535, $"Metrics:Port must be 0 (off) or a TCP port 1..65535, got {o.Metrics.Port}.");
        Check(System.Net.IPAddress.TryParse(o.Metrics.Address, out var metricsAddress) && MetricsAddressUsable(metricsAddress),
            $"Metrics:Address '{o.Metrics.Address}' must be an IP address of this machine to listen on, e.g. 127.0.0.1 (loopback: this machine only), " +
            "::1, or 0.0.0.0 / :: for every interface; not a broadcast or multicast address.");
        Check(o.Run.Frames >= 0, "Run:Frames must not be negative (0: run until stopped).");
        Check(o.Run.StatsIntervalSeconds is >= 0.1 and <= 86400, "Run:StatsIntervalSeconds must be 0.1..86400.");
        return p;
    }

    private static bool MetricsAddressUsable(System.Net.IPAddress address) =>
        !address.Equals(System.Net.IPAddress.Broadcast) && !address.IsIPv6Multicast
        && !(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && address.GetAddressBytes()[0] is >= 224 and <= 239);

    /// <summary>
    /// The ring goes directly into the writer's own folder: no '..', no path elsewhere; the folder's parent must exist;
    /// the mode must let nobody else write.
    /// </summary>
    private static void OutputProblems(OutputOptions output, Action<bool, string> check)
    {
        check(output.Directory.Length > 0 && Path.IsPathRooted(output.Directory), $"Output:Directory '{output.Directory}' must be an absolute folder, e.g. /dev/shm/dannet-edge.");
        check(output.Path.Length > 0, "Output:Path is empty: give the ring file's name (e.g. masks) in Output:Directory.");
        bool dotted = output.Path.Split('/').Contains("..") || output.Directory.Split('/').Contains("..");
        check(!dotted, $"Output:Path '{output.Path}' / Output:Directory '{output.Directory}' must not contain '..'.");
        if (output.Directory.Length > 0 && Path.IsPathRooted(output.Directory) && output.Path.Length > 0 && !dotted)
        {
            string dir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(output.Directory));
            check(string.Equals(Path.GetDirectoryName(output.RingPath), dir, StringComparison.Ordinal) && !Path.GetFileName(output.RingPath).StartsWith('.'),
                $"Output:Path '{output.Path}' is not a file directly in Output:Directory '{dir}': the ring lives in the writer's own folder; " +
                "give a name (e.g. masks), or set Output:Directory too.");
            check(Directory.Exists(Path.GetDirectoryName(dir)), $"Output:Directory '{dir}': its parent folder does not exist (on Linux use /dev/shm/…).");
        }
        uint mode = 0;
        bool octal = output.Mode.Length is >= 3 and <= 4 && output.Mode.All(c => c is >= '0' and <= '7');
        check(octal, $"Output:Mode '{output.Mode}' must be octal permission bits: 0640, 0600 or 0644.");
        if (octal)
        {
            mode = Convert.ToUInt32(output.Mode, 8);
            try { new RingAccess(mode).Validate(); }
            catch (ArgumentException ex) { check(false, "Output:Mode: " + ex.Message); }
        }
        // Output:Group is looked up when the ring is created: the shipped configuration names a group that the install step makes.
    }
}
