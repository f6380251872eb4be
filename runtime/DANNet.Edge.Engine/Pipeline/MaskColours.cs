using OpenCvSharp;

namespace DANNet.Edge.Pipeline;

/// <summary>Colouring class-id masks with a palette (BGR), for PNGs and overlays: a 256-entry table made once, then one lookup per pixel.</summary>
public static class MaskColours
{
    /// <summary>The BGR table of <paramref name="palette"/> (RGB per class id); ids past its end are black.</summary>
    public static byte[] Table(IEnumerable<(byte R, byte G, byte B)> palette)
    {
        var table = new byte[256 * 3];
        int i = 0;
        foreach (var (r, g, b) in palette.Take(256))
        {
            table[3 * i] = b;
            table[3 * i + 1] = g;
            table[3 * i + 2] = r;
            i++;
        }
        return table;
    }

    /// <summary>Paints <paramref name="ids"/> (height·width class ids) into <paramref name="bgr"/>, made height×width 8-bit BGR.</summary>
    public static unsafe void Paint(ReadOnlySpan<byte> ids, int height, int width, byte[] table, Mat bgr)
    {
        if (ids.Length != height * width) throw new ArgumentException($"{ids.Length} class ids for a {width}x{height} mask.");
        bgr.Create(height, width, MatType.CV_8UC3);
        byte* p = (byte*)bgr.DataPointer;
        for (int i = 0; i < ids.Length; i++, p += 3)
        {
            int t = 3 * ids[i];
            p[0] = table[t];
            p[1] = table[t + 1];
            p[2] = table[t + 2];
        }
    }
}
