using System.Diagnostics;
using DANNet.Edge.SharedMemory;
using OpenCvSharp;

namespace DANNet.Edge.Tap;

/// <summary>
/// Follows a mask ring from outside the daemon, as any consumer would: reads the newest frame
/// (polling), counts what it skipped, overran or failed to verify, re-opens the ring when a new
/// writer takes over, and optionally writes colour PNGs.
/// </summary>
public sealed class RingTap(TapOptions options, TextWriter output)
{
    private readonly TimeSpan _staleAfter = options.StaleAfter ?? TimeSpan.FromSeconds(2);

    public TapSummary Run(CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        bool Done(long frames) => cancel.IsCancellationRequested || (options.Frames > 0 && frames >= options.Frames) || (options.Duration is { } d && clock.Elapsed >= d);

        MaskRingReader? reader = WaitForRing(() => Done(0));
        if (reader is null) return Summary(0, 0, 0, 0, 0, 0, [], [], "absent");
        if (options.PngDir is not null) Directory.CreateDirectory(options.PngDir);
        var mask = new byte[reader.Geometry.MaskBytes];
        long read = 0, skipped = 0, mismatches = 0, restarts = 0, overruns = 0, crcFailures = 0;
        ulong lastId = 0;
        var publishToRead = new List<double>();
        var captureToPublish = new List<double>();
        var lastCheck = clock.Elapsed;
        var lastLine = TimeSpan.Zero;
        string state = "alive";
        try
        {
            while (!Done(read))
            {
                var status = reader.TryReadLatest(mask, out var frame);
                if (status == ReadStatus.Frame)
                {
                    ulong now = MonotonicClock.NowNs;
                    read++;
                    if (lastId != 0 && frame.FrameId > lastId + 1) skipped += (long)(frame.FrameId - lastId - 1);
                    lastId = frame.FrameId;
                    publishToRead.Add((now - frame.PublishNs) / 1e6);
                    captureToPublish.Add((frame.PublishNs - frame.CaptureNs) / 1e6);
                    if (options.VerifyPattern && TestPattern.FirstMismatch(mask, frame.FrameId, reader.Geometry.ClassCount) >= 0) mismatches++;
                    if (options.PngDir is not null && read % options.PngEvery == 0) WritePng(reader, mask, frame.FrameId);
                    if (!options.Json && clock.Elapsed - lastLine >= TimeSpan.FromMilliseconds(250))
                    {
                        lastLine = clock.Elapsed;
                        output.WriteLine(Line(reader, frame, mask, read, skipped, overruns, publishToRead[^1], captureToPublish[^1]));
                    }
                    continue;
                }
                if (status == ReadStatus.Overrun) overruns++;
                if (status == ReadStatus.ChecksumMismatch) crcFailures++;
                if (status == ReadStatus.WriterRestarted || clock.Elapsed - lastCheck >= TimeSpan.FromMilliseconds(200))
                {
                    lastCheck = clock.Elapsed;
                    var writer = reader.WriterStatus(_staleAfter);
                    state = writer.ToString().ToLowerInvariant();
                    if (status == ReadStatus.WriterRestarted || writer != WriterState.Alive)
                    {
                        var replacement = TryReopen(reader.Generation);
                        if (replacement is not null)
                        {
                            restarts++;
                            if (!options.Json) output.WriteLine($"writer restarted: generation {reader.Generation:x} → {replacement.Generation:x}, pid {replacement.WriterPid}");
                            reader.Dispose();
                            reader = replacement;
                            state = "alive";
                            lastId = 0;
                            if (mask.Length != reader.Geometry.MaskBytes) mask = new byte[reader.Geometry.MaskBytes];
                            continue;
                        }
                    }
                }
                Thread.Sleep(status == ReadStatus.NoNewFrame || status == ReadStatus.NoFrameYet ? 1 : 0);
            }
            state = reader.WriterStatus(_staleAfter).ToString().ToLowerInvariant();
        }
        finally
        {
            reader.Dispose();
        }
        return Summary(read, skipped, overruns, crcFailures, mismatches, restarts, publishToRead, captureToPublish, state);
    }

    /// <summary>
    /// Opens the ring once it exists — and, unless <see cref="TapOptions.AnyWriter"/>, once a live
    /// writer owns it: a ring left by a stopped or dead writer holds old frames that a consumer must
    /// not take for the present.
    /// </summary>
    private MaskRingReader? WaitForRing(Func<bool> giveUp)
    {
        string? told = null;
        while (true)
        {
            string why;
            try
            {
                var reader = MaskRingReader.Open(options.Path);
                var state = reader.WriterStatus(_staleAfter);
                if (options.AnyWriter || state == WriterState.Alive) return reader;
                why = $"its writer is {state.ToString().ToLowerInvariant()}; its frames are old";
                reader.Dispose();
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException)
            {
                why = ex.Message;
            }
            if (giveUp()) return null;
            if (told != why && !options.Json) output.WriteLine($"waiting for a live writer at {options.Path} ({why})");
            told = why;
            Thread.Sleep(50);
        }
    }

    private MaskRingReader? TryReopen(ulong generation)
    {
        try
        {
            var candidate = MaskRingReader.Open(options.Path);
            if (candidate.Generation != generation) return candidate;
            candidate.Dispose();
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException)
        {
            // Nothing there (yet): keep following the old file.
        }
        return null;
    }

    private static string Line(MaskRingReader reader, MaskFrame frame, byte[] mask, long read, long skipped, long overruns, double publishToRead, double captureToPublish)
    {
        var counts = new int[256];
        foreach (var v in mask) counts[v]++;
        var top = Enumerable.Range(0, reader.Geometry.ClassCount).OrderByDescending(c => counts[c]).Take(3)
            .Select(c => $"{(c < reader.ClassNames.Count ? reader.ClassNames[c] : c.ToString())} {100.0 * counts[c] / mask.Length:F0}%");
        return $"frame {frame.FrameId,7}  read {read,6}  skipped {skipped,5}  capture→publish {captureToPublish,6:F1} ms  publish→read {publishToRead,5:F2} ms  " +
               $"dropped {reader.FramesDropped}  overruns {overruns}  |  {string.Join(", ", top)}";
    }

    private void WritePng(MaskRingReader reader, byte[] mask, ulong frameId)
    {
        var g = reader.Geometry;
        using var image = new Mat(g.Height, g.Width, MatType.CV_8UC3);
        var palette = reader.PaletteRgb;
        unsafe
        {
            byte* p = (byte*)image.DataPointer;
            for (int i = 0; i < mask.Length; i++, p += 3)
            {
                var (r, gr, b) = mask[i] < palette.Count ? palette[mask[i]] : ((byte)0, (byte)0, (byte)0);
                p[0] = b;
                p[1] = gr;
                p[2] = r;
            }
        }
        string path = Path.Combine(options.PngDir!, $"mask-{frameId:D8}.png");
        string temp = path + ".tmp.png";
        if (!Cv2.ImWrite(temp, image)) throw new IOException($"OpenCV could not write '{temp}'.");
        File.Move(temp, path, overwrite: true);
    }

    private static TapSummary Summary(long read, long skipped, long overruns, long crc, long mismatches, long restarts, List<double> publishToRead, List<double> captureToPublish, string state) =>
        new(read, skipped, overruns, crc, mismatches, restarts,
            publishToRead.Count > 0 ? publishToRead.Average() : 0, publishToRead.Count > 0 ? publishToRead.Max() : 0,
            captureToPublish.Count > 0 ? captureToPublish.Average() : 0, state);
}
