using DANNet.Edge.Contracts;

namespace DANNet.Model;

/// <summary>The model and how ONNX Runtime runs it.</summary>
public sealed record ModelOptions
{
    /// <summary>Exported .onnx model; empty: the embedded default (models/README.md).</summary>
    public string Path { get; init; } = "";

    /// <summary>The provider order used when none is configured.</summary>
    public static IReadOnlyList<string> DefaultProviders => ExecutionProviderNames.Names;

    /// <summary>Execution providers in order of preference: tensorrt, cuda, cpu. One that fails to load is skipped with the reason logged.</summary>
    public string[] Providers { get; init; } = [.. DefaultProviders];

    /// <summary>CPU intra-op threads (0: ONNX Runtime's default).</summary>
    public int Threads { get; init; }

    /// <summary>CUDA device for the cuda and tensorrt providers.</summary>
    public int DeviceId { get; init; }

    public TensorRtOptions TensorRt { get; init; } = new();

    /// <summary>
    /// How frames are resized to the model's input: antialiased (PIL's antialiased bilinear, what
    /// evaluation uses), area (OpenCV's pixel-area average) or linear (OpenCV's bilinear). Unset: the
    /// resize the model was evaluated with (its <c>dannet.resize</c>; area for a model that names none).
    /// README "Input resize" has the cost of each.
    /// </summary>
    public InputResize? Resize { get; init; }

    /// <summary>
    /// With a model that takes several images per run (<c>dannet-train export --batch N</c>) and several cameras: how long, once one camera's
    /// frame waits, to wait for the other cameras' frames before running a partial batch (ms).
    /// </summary>
    public double BatchWindowMs { get; init; } = 10;

    /// <summary>Frames run before the service reports ready (kernel selection, engine build).</summary>
    public int WarmupFrames { get; init; } = 3;
}

/// <summary>TensorRT provider options (ONNX Runtime's trt_* options).</summary>
public sealed record TensorRtOptions
{
    public bool Fp16 { get; init; } = true;
    public bool Int8 { get; init; }

    /// <summary>INT8 calibration table with <see cref="Int8"/>: TensorRT's native cache format, as dannet-calibrate writes it (--cache).</summary>
    public string Int8CalibrationTable { get; init; } = "";

    /// <summary>Where built engines are cached (first builds take minutes on a Jetson); empty: no cache.</summary>
    public string EngineCachePath { get; init; } = "/var/cache/dannet-edge/tensorrt";

    public string TimingCachePath { get; init; } = "/var/cache/dannet-edge/tensorrt";

    public int WorkspaceMb { get; init; } = 1024;

    public int BuilderOptimizationLevel { get; init; } = 3;
}
