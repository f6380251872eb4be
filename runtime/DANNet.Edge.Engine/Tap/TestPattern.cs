using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Tap;

/// <summary>
/// The synthetic masks of <c>dannet-edge publish-test-pattern</c>: pixel <c>i</c> of frame <c>f</c> is
/// <c>(7·f + i) mod classes</c>, so two different frames differ at every pixel and any mix of two
/// frames (a torn read) is caught pixel by pixel, independently of the CRC.
/// </summary>
public static class TestPattern
{
    public const string ModelName = "test-pattern";

    public static void Fill(Span<byte> mask, ulong frameId, int classes)
    {
        int start = (int)((7 * frameId) % (ulong)classes);
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = (byte)start;
            if (++start == classes) start = 0;
        }
    }

    /// <summary>Writes the next frame's pattern straight into <paramref name="writer"/>'s next slot and publishes it; returns its frame id.</summary>
    public static ulong PublishNext(MaskRingWriter writer)
    {
        ulong capture = MonotonicClock.NowNs;
        Fill(writer.BeginFrame(), writer.Published + 1, writer.Geometry.ClassCount);
        return writer.Commit(capture);
    }

    /// <summary>Index of the first pixel that is not frame <paramref name="frameId"/>'s pattern, or -1.</summary>
    public static int FirstMismatch(ReadOnlySpan<byte> mask, ulong frameId, int classes)
    {
        int expected = (int)((7 * frameId) % (ulong)classes);
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] != expected) return i;
            if (++expected == classes) expected = 0;
        }
        return -1;
    }
}
