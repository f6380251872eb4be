using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Configuration;

/// <summary>Checks a configuration before anything opens; every problem names the field and the fix.</summary>
public static class EdgeOptionsValidator
{
    public static IReadOnlyList<string> Problems(EdgeOptions o)
    {
        var p = new List<string>();
        void Check(bool ok, string problem) { if (!ok) p.Add(problem); }
        var s = o.Source;
        Check(s.Width >= 0 && s.Height >= 0, "Source:Width/Height must not be negative (0 keeps the device's default).");
        Check((s.Width == 0) == (s.Height == 0), "Source:Width and Source:Height go together: set both or neither.");
        Check(s.Fps >= 0, "Source:Fps must not be negative (0 keeps the device's default).");
        Check(s.Fourcc.Length is 0 or 4, $"Source:Fourcc '{s.Fourcc}' must be four characters, e.g. MJPG or YUYV (or empty).");
        Check(s.TimeoutSeconds > 0, "Source:TimeoutSeconds must be positive, e.g. 5.");
        Check(s.ReconnectInitialSeconds > 0, "Source:ReconnectInitialSeconds must be positive, e.g. 0.5.");
        Check(s.ReconnectMaxSeconds >= s.ReconnectInitialSeconds, "Source:ReconnectMaxSeconds must be at least Source:ReconnectInitialSeconds.");
        var m = o.Model;
        Check(m.Providers.Length > 0, $"Model:Providers is empty: list at least one of {ExecutionProviderNames.Listed} (cpu always works).");
        foreach (var provider in m.Providers)
            Check(ExecutionProviderNames.TryParse(provider, out _), $"Model:Providers has '{provider}': use {ExecutionProviderNames.Listed} (lower case).");
        Check(m.Providers.Distinct(StringComparer.Ordinal).Count() == m.Providers.Length, "Model:Providers lists a provider twice.");
        Check(m.Path.Length == 0 || File.Exists(m.Path), $"Model:Path '{m.Path}' does not exist: export one with 'dannet-train export', or leave it empty for the embedded model.");
        Check(m.Threads >= 0, "Model:Threads must not be negative (0: ONNX Runtime's default).");
        Check(m.DeviceId >= 0, "Model:DeviceId must not be negative.");
        Check(m.WarmupFrames >= 0, "Model:WarmupFrames must not be negative.");
        Check(m.TensorRt.WorkspaceMb > 0, "Model:TensorRt:WorkspaceMb must be positive, e.g. 1024.");
        Check(m.TensorRt.BuilderOptimizationLevel is >= 0 and <= 5, "Model:TensorRt:BuilderOptimizationLevel must be 0..5.");
        Check(!m.TensorRt.Int8 || m.TensorRt.Int8CalibrationTable.Length == 0 || File.Exists(m.TensorRt.Int8CalibrationTable),
            $"Model:TensorRt:Int8CalibrationTable '{m.TensorRt.Int8CalibrationTable}' does not exist: make one with dannet-calibrate.");
        Check(o.Output.Path.Length > 0, "Output:Path is empty: give the ring file, e.g. /dev/shm/dannet-edge.");
        Check(o.Output.Path.Length == 0 || Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(o.Output.Path))),
            $"Output:Path '{o.Output.Path}': its folder does not exist (on Linux use /dev/shm/…).");
        Check(o.Output.Slots is >= RingGeometry.MinSlots and <= RingGeometry.MaxSlots, $"Output:Slots must be {RingGeometry.MinSlots}..{RingGeometry.MaxSlots}, got {o.Output.Slots}.");
        Check(o.Run.Frames >= 0, "Run:Frames must not be negative (0: run until stopped).");
        Check(o.Run.StatsIntervalSeconds > 0, "Run:StatsIntervalSeconds must be positive.");
        return p;
    }
}
