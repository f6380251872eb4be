namespace DANNet.Edge.Contracts;

/// <summary>
/// The contract between an exported model and the runtime: tensor names, element types and layout.
/// The exporter writes graphs that obey it; the runtime checks a model against it when it loads one.
/// The image goes in as raw camera bytes (uint8, BGR as OpenCV delivers them, NHWC) so that the
/// runtime copies the frame straight into the input buffer; normalisation lives inside the graph.
/// </summary>
public static class ModelContract
{
    /// <summary>Name of the image input: uint8 [1, H, W, 3], BGR, 0..255.</summary>
    public const string ImageInput = "image";

    /// <summary>Name of the class-mask output: uint8 [1, H, W], trainIds 0..18.</summary>
    public const string MaskOutput = "mask";

    /// <summary>Name of the optional probabilities output: float32 [1, 19, H, W].</summary>
    public const string ProbabilitiesOutput = "probabilities";

    /// <summary>Name of the optional relit image output: float32 [1, 3, H, W], normalised space.</summary>
    public const string RelitOutput = "relit";

    /// <summary>Channels of the image input.</summary>
    public const int ImageChannels = 3;

    /// <summary>ImageNet mean (RGB order), applied to pixels scaled to 0..1.</summary>
    public static IReadOnlyList<float> MeanRgb { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet standard deviation (RGB order), applied to pixels scaled to 0..1.</summary>
    public static IReadOnlyList<float> StdRgb { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>The most images one run of a model takes (its static batch dimension): one per camera of a daemon.</summary>
    public const int MaxBatch = 16;

    /// <summary>The largest input (and mask) side in pixels a model may have: the ring and the runtime's buffers are sized for it.</summary>
    public const int MaxSide = 16384;

    /// <summary>The class names, UTF-8 joined by line breaks, take at most this many bytes (they travel in the ring's header).</summary>
    public const int MaxClassNamesBytes = 2048;
}
