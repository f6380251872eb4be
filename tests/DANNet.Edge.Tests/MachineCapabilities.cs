using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace DANNet.Edge.Tests;

/// <summary>
/// What this machine can do, probed directly through ONNX Runtime and OpenCV (not through the code
/// under test), so tests assert the real path where the hardware or back-end exists and the
/// fallback where it does not — the same suite passes on a CPU build machine, a CUDA desktop and a
/// Jetson.
/// </summary>
public static class MachineCapabilities
{
    private static readonly Lazy<bool> Cuda = new(() => ProviderLoads(o => o.AppendExecutionProvider_CUDA(0)));
    private static readonly Lazy<bool> TensorRt = new(() => ProviderLoads(o => o.AppendExecutionProvider_Tensorrt(0)));
    private static readonly Lazy<bool> GStreamer = new(() =>
        Cv2.GetBuildInformation().Split('\n').Select(l => l.Trim())
            .Any(l => l.StartsWith("GStreamer:", StringComparison.OrdinalIgnoreCase) && l.Contains("YES", StringComparison.OrdinalIgnoreCase)));

    /// <summary>Whether ONNX Runtime's provider library (and the CUDA libraries behind it) loads here.</summary>
    public static bool ProviderAvailable(string provider) => provider switch
    {
        "cpu" => true,
        "cuda" => Cuda.Value,
        "tensorrt" => TensorRt.Value,
        _ => throw new ArgumentException($"Unknown provider '{provider}'.", nameof(provider)),
    };

    /// <summary>The provider a session should end up on for an ordered preference list, or null if none loads.</summary>
    public static string? FirstAvailable(IEnumerable<string> providers) => providers.FirstOrDefault(ProviderAvailable);

    /// <summary>Whether this OpenCV build has the GStreamer back-end.</summary>
    public static bool HasGStreamer => GStreamer.Value;

    private static bool ProviderLoads(Action<SessionOptions> append)
    {
        using var options = new SessionOptions();
        try
        {
            append(options);
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    }
}
