using System.Buffers.Binary;

namespace DANNet.Edge.Sources;

/// <summary>
/// The pixel size an image file declares in its header (PNG's IHDR, JPEG's start-of-frame, BMP's info
/// header), read without decoding it: a 31 KB PNG can declare 16000x16000 pixels, which OpenCV would
/// allocate 768 MB for before finding out anything else.
/// </summary>
public static class ImageHeaders
{
    /// <summary>Width and height from the header, or null when the format is not recognised (the decoder then decides).</summary>
    public static (int Width, int Height)? Size(string path)
    {
        Span<byte> head = stackalloc byte[32];
        using var stream = File.OpenRead(path);
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..n];
        if (n >= 24 && head[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            return Clamp(BinaryPrimitives.ReadUInt32BigEndian(head[16..]), BinaryPrimitives.ReadUInt32BigEndian(head[20..]));
        if (n >= 26 && head[0] == 'B' && head[1] == 'M')
            return Clamp(BinaryPrimitives.ReadUInt32LittleEndian(head[18..]), (uint)Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(head[22..])));
        if (n >= 2 && head[0] == 0xFF && head[1] == 0xD8) return JpegSize(stream);
        return null;
    }

    /// <summary>Walks JPEG segments to the first start-of-frame marker (C0..CF except C4, C8, CC); at most 64 segments.</summary>
    private static (int, int)? JpegSize(Stream stream)
    {
        stream.Position = 2;
        Span<byte> segment = stackalloc byte[9];
        for (int i = 0; i < 64; i++)
        {
            if (stream.ReadAtLeast(segment[..4], 4, throwOnEndOfStream: false) < 4 || segment[0] != 0xFF) return null;
            byte marker = segment[1];
            int length = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (stream.ReadAtLeast(segment[..5], 5, throwOnEndOfStream: false) < 5) return null;
                return (BinaryPrimitives.ReadUInt16BigEndian(segment[3..]), BinaryPrimitives.ReadUInt16BigEndian(segment[1..]));
            }
            if (length < 2) return null;
            stream.Position += length - 2;
        }
        return null;
    }

    private static (int, int) Clamp(uint width, uint height) => ((int)Math.Min(width, int.MaxValue), (int)Math.Min(height, int.MaxValue));
}
