using System.Text;

namespace DANNet.Model.Onnx;

/// <summary>
/// A model file's <c>metadata_props</c> read without loading the model: the top level of the
/// ModelProto protobuf is walked field by field and everything else (the graph, the weights) is
/// skipped by its length. Used to choose session options before ONNX Runtime sees the file (a
/// Q/DQ model turns TensorRT's INT8 mode on). Lengths are checked against the file: a malformed
/// or truncated file is an <see cref="InvalidDataException"/> naming it, never a huge allocation.
/// </summary>
public static class OnnxFileMetadata
{
    private const int MetadataPropsField = 14;
    private const int MaxEntryBytes = 1 << 20;

    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12, FileOptions.SequentialScan);
        return Read(file, path);
    }

    /// <summary>As <see cref="Read(string)"/>, from a seekable stream holding a model (<paramref name="path"/> names it in errors).</summary>
    public static IReadOnlyDictionary<string, string> Read(Stream file, string path)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        long length = file.Length;
        while (file.Position < length)
        {
            ulong tag = Varint(file, path);
            int field = (int)(tag >> 3), wire = (int)(tag & 7);
            switch (wire)
            {
                case 0: Varint(file, path); break;
                case 1: Skip(file, 8, path); break;
                case 5: Skip(file, 4, path); break;
                case 2:
                    long size = Length(file, path);
                    if (field == MetadataPropsField && size <= MaxEntryBytes)
                    {
                        var entry = new byte[size];
                        file.ReadExactly(entry);
                        var (key, value) = Entry(entry, path);
                        if (key is not null) metadata[key] = value ?? "";
                    }
                    else Skip(file, size, path);
                    break;
                default: throw Malformed(path, $"wire type {wire} at byte {file.Position}");
            }
        }
        return metadata;
    }

    private static (string? Key, string? Value) Entry(byte[] bytes, string path)
    {
        using var s = new MemoryStream(bytes, writable: false);
        string? key = null, value = null;
        while (s.Position < s.Length)
        {
            ulong tag = Varint(s, path);
            if ((tag & 7) != 2) throw Malformed(path, "a metadata entry with a non-string field");
            long size = Length(s, path);
            string text = Encoding.UTF8.GetString(bytes, (int)s.Position, (int)size);
            s.Position += size;
            if (tag >> 3 == 1) key = text;
            else if (tag >> 3 == 2) value = text;
        }
        return (key, value);
    }

    private static long Length(Stream s, string path)
    {
        ulong size = Varint(s, path);
        if (size > (ulong)(s.Length - s.Position)) throw Malformed(path, $"a field of {size} bytes at byte {s.Position} runs past the end");
        return (long)size;
    }

    private static void Skip(Stream s, long bytes, string path)
    {
        if (bytes > s.Length - s.Position) throw Malformed(path, $"a field runs past the end at byte {s.Position}");
        s.Seek(bytes, SeekOrigin.Current);
    }

    private static ulong Varint(Stream s, string path)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            int b = s.ReadByte();
            if (b < 0) throw Malformed(path, "it ends inside a number");
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw Malformed(path, $"a number longer than 10 bytes at byte {s.Position}");
    }

    private static InvalidDataException Malformed(string path, string what) =>
        new($"'{path}' is not a readable ONNX model: {what}. Export it again with 'dannet-train export' or 'dannet-calibrate'.");
}
