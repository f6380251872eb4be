using Microsoft.ML.OnnxRuntime;

namespace DANNet.Model;

/// <summary>
/// The process's ONNX Runtime environment, made once before any session: its own log level (errors
/// only; the daemon logs what matters itself) and telemetry off — ONNX Runtime 1.31 on Linux starts a
/// telemetry uploader that wants to reach the network over HTTPS (it logged "No readable CA bundle was
/// found; telemetry HTTPS uploads will be unavailable" on a minimal Debian), which a car has no business doing.
/// </summary>
public static class OnnxRuntimeEnvironment
{
    private static readonly Lazy<OrtEnv> s_env = new(() =>
    {
        var options = new EnvironmentCreationOptions { logId = "dannet-edge", logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        var env = OrtEnv.IsCreated ? OrtEnv.Instance() : OrtEnv.CreateInstanceWithOptions(ref options);
        env.DisableTelemetryEvents();
        return env;
    });

    /// <summary>The environment (made on first use).</summary>
    public static OrtEnv Instance => s_env.Value;
}
