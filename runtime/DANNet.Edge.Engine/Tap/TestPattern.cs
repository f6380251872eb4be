using DANNet.Edge.Contracts;
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

    /// <summary>The ring description of test-pattern masks (Cityscapes classes and palette).</summary>
    public static RingDescription Description() => new(TestPattern.ModelName, CityscapesClasses.Names,
        CityscapesClasses.Palette);

    /// <summary>
    /// Publishes patterns to a new ring at <paramref name="path"/> until <paramref name="frames"/> (0: no limit), <paramref name="duration"/>
    /// or cancellation; paced at <paramref name="fps"/> (0: unpaced).
    /// </summary>
    public static long Publish(string path, RingGeometry geometry, long frames, TimeSpan? duration, double fps, CancellationToken cancel,
        RingAccess? access = null)
    {
        using var writer = MaskRingWriter.Create(path, geometry, Description(), access);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long n = 0;
        while (!cancel.IsCancellationRequested && (frames == 0 || n < frames) && (duration is null || clock.Elapsed < duration))
        {
            TestPattern.PublishNext(writer);
            n++;
            if (fps > 0)
            {
                var due = TimeSpan.FromSeconds(n / fps) - clock.Elapsed;
                if (due > TimeSpan.Zero) Thread.Sleep(due);
            }
        }
        return n;
    }
}
