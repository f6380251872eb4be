using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DANNet.Model.Onnx;

/// <summary>
/// The one reader and writer of ONNX <c>TensorProto</c> values (initializers): what every part that builds or
/// reads a graph — the exporter, the Q/DQ writer, the TensorRT readiness check, the pretrained importer — uses,
/// so that all of them refuse the same malformed tensors with the same one-line error.
/// </summary>
public static class TensorProtos
{
    /// <summary>Bytes of one element of the types written here.</summary>
    public static int ElementSize(DataType type) => type switch
    {
        DataType.Float or DataType.Int32 => 4,
        DataType.Int64 or DataType.Double => 8,
        DataType.Int8 or DataType.Uint8 => 1,
        _ => throw new ArgumentException($"Tensors of type {type} are not written by DANNet Edge."),
    };

    /// <summary>
    /// An initializer holding <paramref name="bytes"/> (little-endian raw data) of <paramref name="shape"/>; the bytes must fill the shape exactly.
    /// </summary>
    public static TensorProto Create(string name, DataType type, ReadOnlySpan<byte> bytes, IReadOnlyList<long> shape)
    {
        long count = Count(shape, name);
        if (count * ElementSize(type) != bytes.Length)
            throw new ArgumentException($"Initializer '{name}': {bytes.Length} bytes do not fill shape [{string.Join(", ", shape)}] of {type}.");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian.");
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        tensor.Dims.AddRange(shape);
        return tensor;
    }

    /// <summary>A float32 initializer of <paramref name="shape"/>.</summary>
    public static TensorProto Create(string name, ReadOnlySpan<float> values, IReadOnlyList<long> shape) =>
        Create(name, DataType.Float, MemoryMarshal.AsBytes(values), shape);

    /// <summary>
    /// The shape and values of a float32 tensor, checked: its type, its data held inside the model, and a value count that fills its shape
    /// (from <c>raw_data</c> or <c>float_data</c>). <paramref name="where"/> names the model in the error.
    /// </summary>
    public static (long[] Shape, float[] Data) Floats(TensorProto t, string where)
    {
        if ((DataType)t.DataType != DataType.Float) throw Bad(where, t, $"is {(DataType)t.DataType}, not float");
        if (t.DataLocation == TensorProto.Types.DataLocation.External) throw Bad(where, t, "keeps its data in an external file");
        long[] shape = [.. t.Dims];
        long count = Count(shape, t.Name);
        if (!t.RawData.IsEmpty)
        {
            if (t.RawData.Length != count * sizeof(float)) throw Bad(where, t, $"holds {t.RawData.Length} bytes for {count} floats of shape [{string.Join("x", shape)}]");
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian.");
            var data = new float[count];
            MemoryMarshal.Cast<byte, float>(t.RawData.Span).CopyTo(data);
            return (shape, data);
        }
        if (t.FloatData.Count != count) throw Bad(where, t, $"holds {t.FloatData.Count} floats for shape [{string.Join("x", shape)}]");
        return (shape, [.. t.FloatData]);
    }

    private static long Count(IReadOnlyList<long> shape, string name)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new InvalidDataException($"Tensor '{name}' has a negative dimension in [{string.Join(", ", shape)}].");
            count = checked(count * d);
            if (count > Array.MaxLength) throw new InvalidDataException($"Tensor '{name}' of shape [{string.Join(", ", shape)}] is larger than an array can hold.");
        }
        return count;
    }

    private static InvalidDataException Bad(string where, TensorProto t, string what) => new($"{where}: tensor '{t.Name}' {what}.");
}
