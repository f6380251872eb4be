namespace DANNet.Edge.Contracts;

/// <summary>
/// Keys of the metadata an exported model carries (ONNX <c>metadata_props</c>). The exporter writes
/// them; the runtime reads them to size its buffers, label its output and say where a model came from.
/// </summary>
public static class ModelMetadataKeys
{
    /// <summary>Format version of this metadata (an integer); bumped when a key changes meaning.</summary>
    public const string FormatVersion = "dannet.format_version";

    /// <summary>Architecture name, e.g. <c>pspnet-r18-w0.5-l16</c>.</summary>
    public const string Architecture = "dannet.architecture";

    /// <summary>What the segmentation head computes, one line (e.g. which ASPP branches DeepLab-v2 sums).</summary>
    public const string Head = "dannet.head";

    /// <summary>
    /// How frames are resized to the input (<c>antialiased</c>, <c>linear</c> or <c>area</c>): the resize the
    /// model was evaluated with, the default of every command that feeds it (absent: <c>area</c>).
    /// </summary>
    public const string Resize = "dannet.resize";

    /// <summary>Human-readable input contract, e.g. <c>image uint8 [1,272,480,3] BGR 0..255 NHWC</c>.</summary>
    public const string Input = "dannet.input";

    /// <summary>Input height in pixels (the mask has the same size).</summary>
    public const string InputHeight = "dannet.input_height";

    /// <summary>Input width in pixels (the mask has the same size).</summary>
    public const string InputWidth = "dannet.input_width";

    /// <summary>Class names in trainId order, comma-separated.</summary>
    public const string Classes = "dannet.classes";

    /// <summary>Class colours in trainId order as <c>#rrggbb</c>, comma-separated.</summary>
    public const string Palette = "dannet.palette";

    /// <summary>Whether the relighting net is in the graph (<c>true</c>/<c>false</c>).</summary>
    public const string Relighting = "dannet.relighting";

    /// <summary>Probability re-weighting strength s used in the graph (0.16 for DANNet).</summary>
    public const string ReweightStrength = "dannet.reweight_strength";

    /// <summary>Class pixel frequencies of the training labels in trainId order, comma-separated (the re-weighting's input).</summary>
    public const string ClassFrequencies = "dannet.class_frequencies";

    /// <summary>Hash of the training configuration of the exported checkpoint (empty for imported weights).</summary>
    public const string ConfigHash = "dannet.config_hash";

    /// <summary>The checkpoint or weight files the model was exported from.</summary>
    public const string Source = "dannet.source";

    /// <summary>Version of the exporter (dannet-train's version with its git commit).</summary>
    public const string ExporterVersion = "dannet.exporter_version";

    /// <summary>Numeric precision of the graph: absent or <c>float32</c> for exports, <c>int8-qdq</c> for dannet-calibrate's explicitly quantised models.</summary>
    public const string Precision = "dannet.precision";

    /// <summary>The <see cref="Precision"/> of an explicitly quantised model (QuantizeLinear/DequantizeLinear pairs, int8).</summary>
    public const string PrecisionInt8Qdq = "int8-qdq";

    /// <summary>How an int8 model was calibrated: method, frames, data, resize, tool version (one line).</summary>
    public const string Calibration = "dannet.calibration";

    /// <summary>The current <see cref="FormatVersion"/>.</summary>
    public const int CurrentFormatVersion = 1;
}
