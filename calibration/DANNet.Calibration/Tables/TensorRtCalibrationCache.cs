using System.Globalization;
using System.Text;

namespace DANNet.Calibration.Tables;

/// <summary>
/// TensorRT's native INT8 calibration cache (what <c>IInt8Calibrator::writeCalibrationCache</c> writes
/// and ONNX Runtime's TensorRT provider reads with <c>trt_int8_use_native_calibration_table=1</c>):
/// a first line <c>TRT-&lt;version&gt;-&lt;calibrator&gt;</c>, then one <c>tensor: hhhhhhhh</c> line per
/// tensor, the hex digits being the IEEE-754 bits of the float32 scale, big-endian; the tensor's
/// dynamic range is scale·127. Tensor names are the ONNX value names (TensorRT's parser keeps them).
/// </summary>
public static class TensorRtCalibrationCache
{
    /// <summary>The TensorRT version written in the header: 10.3, JetPack 6's.</summary>
    public const string DefaultVersion = "100300";

    public static string Format(IReadOnlyDictionary<string, float> scales, string calibrator, string version = DefaultVersion)
    {
        var s = new StringBuilder();
        s.Append("TRT-").Append(version).Append('-').Append(calibrator).Append('\n');
        foreach (var (name, scale) in scales.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (name.Contains(':') || name.Contains('\n')) throw new ArgumentException($"Tensor name '{name}' cannot be written in a calibration cache (':' or newline).");
            if (!(scale > 0) || !float.IsFinite(scale)) throw new ArgumentException($"Tensor '{name}': scale {scale} is not a positive finite number.");
            // The bits as one big-endian hex number: the most significant byte first.
            s.Append(name).Append(": ").Append(BitConverter.SingleToUInt32Bits(scale).ToString("x8", CultureInfo.InvariantCulture)).Append('\n');
        }
        return s.ToString();
    }

    /// <summary>Parses a cache: (calibrator, version, scales). Errors name the line.</summary>
    public static (string Calibrator, string Version, Dictionary<string, float> Scales) Parse(string text, string source)
    {
        var lines = text.Split('\n');
        var header = lines[0].TrimEnd('\r');
        var parts = header.Split('-');
        if (parts.Length != 3 || parts[0] != "TRT")
            throw new InvalidDataException($"{source}: line 1 '{header}' is not a TensorRT calibration cache header (TRT-<version>-<calibrator>).");
        var scales = new Dictionary<string, float>(StringComparer.Ordinal);
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0) continue;
            int colon = line.LastIndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0 || line.Length - colon - 2 != 8
                || !uint.TryParse(line.AsSpan(colon + 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint bits))
                throw new InvalidDataException($"{source}: line {i + 1} '{line}' is not 'tensor: <8 hex digits>'.");
            scales[line[..colon]] = BitConverter.UInt32BitsToSingle(bits);
        }
        return (parts[2], parts[1], scales);
    }
}
