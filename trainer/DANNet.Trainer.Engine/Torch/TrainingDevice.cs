using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Torch;

/// <summary>
/// Where training runs: <c>cpu</c>, <c>cuda</c> / <c>cuda:N</c>, or <c>auto</c> (the first CUDA
/// device when this build and machine have one, else the CPU). Resolved once at the start of a
/// run, so that a CUDA request that cannot be met fails before any data is read.
/// </summary>
public static partial class TrainingDevice
{
    public const string Auto = "auto", Cpu = "cpu", Cuda = "cuda";

    /// <summary>The libtorch this trainer was built against: <c>cpu</c> (the default) or <c>cuda</c> (<c>-p:TorchBackend=cuda</c>).</summary>
    public static string Backend { get; } = typeof(TrainingDevice).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == "DANNet.TorchBackend")?.Value is { Length: > 0 } b ? b : Cpu;

    /// <summary>True when <paramref name="spec"/> is a device this option accepts (whether or not it exists here).</summary>
    public static bool IsValid(string spec) => Pattern().IsMatch(spec);

    /// <summary>The CUDA devices libtorch sees (0 on a CPU build or a machine without a usable driver).</summary>
    public static int CudaDevices()
    {
        try { return cuda.is_available() ? cuda.device_count() : 0; }
        catch (Exception ex) when (ex is DllNotFoundException or NotSupportedException or InvalidOperationException) { return 0; }
    }

    /// <summary>
    /// The device for <paramref name="spec"/>, or an error that says why it is not usable here and what to do; <paramref name="given"/> names
    /// where the value came from (<c>--device</c> on the command line, else the config's <c>run.device</c>).
    /// </summary>
    public static Device Resolve(string spec, string given = "run.device")
    {
        var m = Pattern().Match(spec);
        if (!m.Success) throw new ArgumentException($"{given} '{spec}': expected cpu, cuda, cuda:N or auto.");
        if (spec == Cpu) return CPU;
        int count = CudaDevices();
        if (spec == Auto) return count > 0 ? CUDA : CPU;
        int index = m.Groups["index"].Success ? int.Parse(m.Groups["index"].Value, CultureInfo.InvariantCulture) : 0;
        if (count == 0)
            throw new ArgumentException(Backend == Cuda
                ? $"{given} {spec}: libtorch (CUDA build) finds no usable CUDA device here: check the NVIDIA driver (nvidia-smi) and CUDA_VISIBLE_DEVICES, or train with --device cpu."
                : $"{given} {spec}: this trainer is built with the CPU libtorch, which has no CUDA. Rebuild it with -p:TorchBackend=cuda on a machine " +
                  "that can restore the CUDA libtorch packages (docs/gpu-training.md), or train with --device cpu.");
        if (index >= count)
            throw new ArgumentException($"{given} {spec}: there {(count == 1 ? "is 1 CUDA device (cuda:0)" : $"are {count} CUDA devices (cuda:0..cuda:{count - 1})")}.");
        return new Device(DeviceType.CUDA, index);
    }

    /// <summary>True when <paramref name="t"/> is on <paramref name="device"/> (type and index; Device has no value equality).</summary>
    public static bool IsOn(Tensor t, Device device) =>
        t.device_type == device.type && (device.type == DeviceType.CPU || t.device_index == device.index);

    /// <summary>One line for <c>doctor</c>: the backend and the devices it sees.</summary>
    public static string Describe()
    {
        int count = CudaDevices();
        return $"libtorch backend {Backend}; devices: cpu{string.Concat(Enumerable.Range(0, count).Select(i => $", cuda:{i}"))}" +
            (count == 0 && Backend == Cpu ? " (CUDA needs a -p:TorchBackend=cuda build, docs/gpu-training.md)" : "");
    }

    [GeneratedRegex(@"^(cpu|auto|cuda(:(?<index>\d{1,2}))?)$")]
    private static partial Regex Pattern();
}
