using DANNet.Edge.Contracts;
using OpenCvSharp;

namespace DANNet.Model.Scoring;

/// <summary>
/// The one colouring of class-id masks (BGR images for PNGs, overlays, sheets): a 256-entry table made once from a palette, then one
/// lookup per pixel. Ids past the palette (255: ignored, no prediction) are black.
/// </summary>
public static class MaskColours
{
    /// <summary>The BGR table of <paramref name="palette"/> (one colour per class id): 256 × 3 bytes.</summary>
    public static byte[] Table(IReadOnlyList<Rgb> palette)
    {
        var table = new byte[256 * 3];
        for (int i = 0; i < Math.Min(256, palette.Count); i++)
        {
            table[3 * i] = palette[i].B;
            table[3 * i + 1] = palette[i].G;
            table[3 * i + 2] = palette[i].R;
        }
        return table;
    }

    /// <summary>Paints <paramref name="ids"/> (height·width class ids) into <paramref name="bgr"/>, made height×width 8-bit BGR.</summary>
    public static unsafe void Paint(ReadOnlySpan<byte> ids, int height, int width, byte[] table, Mat bgr)
    {
        if (ids.Length != height * width) throw new ArgumentException($"{ids.Length} class ids for a {width}x{height} mask.");
        if (table.Length != 256 * 3) throw new ArgumentException($"A colour table has 768 bytes, not {table.Length}.", nameof(table));
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

    /// <summary>A new BGR image of a continuous 8-bit class-id image, in <paramref name="palette"/> (default: the Cityscapes palette).</summary>
    public static unsafe Mat Colorize(Mat ids, IReadOnlyList<Rgb>? palette = null)
    {
        if (ids.Type() != MatType.CV_8UC1 || !ids.IsContinuous()) throw new ArgumentException($"A class-id image is continuous 8-bit, one channel; got {ids.Type()}.");
        var colour = new Mat();
        Paint(new ReadOnlySpan<byte>((void*)ids.DataPointer, ids.Rows * ids.Cols), ids.Rows, ids.Cols, Table(palette ?? CityscapesClasses.Palette), colour);
        return colour;
    }
}
