using DANNet.Model.Scoring;
using System.Diagnostics;
using DANNet.Edge.Pipeline;
using DANNet.Edge.SharedMemory;
using OpenCvSharp;

namespace DANNet.Edge.Tap;

/// <summary>
/// Follows a mask ring from outside the daemon, as any consumer would: reads the newest frame
/// (polling), counts what it skipped, overran or failed to verify, and goes on through faults — a
/// writer that stops, dies or restarts, a ring truncated, replaced or overwritten — reporting each
/// change of state once and retrying with a back-off (10 ms doubling to 200 ms), so a broken ring
/// never makes it spin. <see cref="TapOptions.Frames"/> and <see cref="TapOptions.Duration"/> are hard
/// limits, whatever the ring does. Optionally writes colour PNGs.
/// </summary>
public sealed class RingTap(TapOptions options, TextWriter output)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(200);
    private readonly TimeSpan _staleAfter = options.StaleAfter ?? TimeSpan.FromSeconds(2);
    private string? _told;

    public TapSummary Run(CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        bool Done(long frames) => cancel.IsCancellationRequested || (options.Frames > 0 && frames >= options.Frames) || (options.Duration is { } d && clock.Elapsed >= d);
        void Pause(TimeSpan t)
        {
            // Never past a --seconds limit, and awake for a cancellation.
            if (options.Duration is { } d && d - clock.Elapsed < t) t = d - clock.Elapsed;
            // Whole milliseconds: a wait rounded down to 0 would return at once and spin out the last one.
            cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(t.TotalMilliseconds))));
        }

        if (options.PngDir is not null) Directory.CreateDirectory(options.PngDir);
        if (Directory.Exists(options.Path))
            throw new IOException($"'{options.Path}' is a folder, not a ring: give the ring file in it (e.g. {Path.Combine(options.Path, "masks")}).");
        MaskRingReader? reader = null;
        byte[] mask = [];
        long read = 0, skipped = 0, mismatches = 0, restarts = 0, overruns = 0, crcFailures = 0, waits = 0, invalid = 0;
        ulong lastId = 0, generation = 0;
        // Running figures, not per-frame lists: a tap that follows a ring for months keeps its memory flat.
        var publishToRead = new RunningMean();
        var captureToPublish = new RunningMean();
        var lastCheck = TimeSpan.Zero;
        var lastLine = TimeSpan.Zero;
        var backoff = FirstBackoff;
        string state = "absent";
        try
        {
            while (!Done(read))
            {
                if (reader is null)
                {
                    reader = TryOpen(out string why, out state);
                    if (reader is null)
                    {
                        Tell($"waiting for a live writer at {options.Path} ({why})");
                        waits++;
                        Pause(backoff);
                        backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                        continue;
                    }
                    backoff = FirstBackoff;
                    if (generation != 0 && reader.Generation != generation)
                    {
                        restarts++;
                        Tell($"writer restarted: generation {generation:x} → {reader.Generation:x}, pid {reader.WriterPid}");
                    }
                    else Tell($"reading {options.Path}: {reader.Geometry.Width}x{reader.Geometry.Height}, {reader.Model}, writer pid {reader.WriterPid}");
                    generation = reader.Generation;
                    lastId = 0;
                    if (mask.Length != reader.Geometry.MaskBytes) mask = new byte[reader.Geometry.MaskBytes];
                }

                var status = reader.TryReadLatest(mask, out var frame);
                switch (status)
                {
                    case ReadStatus.Frame:
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
                            output.WriteLine(Line(reader, frame, mask, read, skipped, overruns, publishToRead.Last, captureToPublish.Last));
                        }
                        continue;
                    case ReadStatus.Overrun:
                        overruns++;
                        continue;
                    case ReadStatus.ChecksumMismatch:
                        crcFailures++;
                        continue;
                    case ReadStatus.InvalidValues:
                        invalid++;
                        continue;
                    case ReadStatus.Damaged:
                        Tell($"the ring at {options.Path} was truncated or overwritten under this reader");
                        state = "damaged";
                        reader.Dispose();
                        reader = null;
                        continue;
                    case ReadStatus.WriterRestarted:
                        reader.Dispose();
                        reader = null;
                        continue;
                }
                // No new frame: now and then, ask whether the writer still lives and the path still names this file.
                if (clock.Elapsed - lastCheck >= TimeSpan.FromMilliseconds(200))
                {
                    lastCheck = clock.Elapsed;
                    var writer = reader.WriterStatus(_staleAfter);
                    state = writer.ToString().ToLowerInvariant();
                    // --any-writer on a stopped or dead writer: its last frames were read; no more will come.
                    if (writer != WriterState.Alive && options.AnyWriter && !reader.IsReplaced())
                    {
                        Tell($"the writer is {state}: its last frames were read, no more will come");
                        break;
                    }
                    if (reader.IsReplaced() || (writer != WriterState.Alive && !options.AnyWriter))
                    {
                        reader.Dispose();
                        reader = null;
                        continue;
                    }
                }
                Pause(TimeSpan.FromMilliseconds(1));
            }
            if (reader is not null) state = reader.WriterStatus(_staleAfter).ToString().ToLowerInvariant();
        }
        finally
        {
            reader?.Dispose();
        }
        return Summary(read, skipped, overruns, crcFailures, mismatches, restarts, waits, publishToRead, captureToPublish, state) with { InvalidFrames = invalid };
    }

    /// <summary>Says <paramref name="line"/> unless it was the last thing said (each change of state once).</summary>
    private void Tell(string line)
    {
        if (line == _told) return;
        _told = line;
        if (!options.Json) output.WriteLine(line);
    }

    /// <summary>
    /// Opens the ring if it exists, is trusted, and — unless <see cref="TapOptions.AnyWriter"/> — a live
    /// writer owns it: a ring left by a stopped or dead writer holds old frames that a consumer must not
    /// take for the present.
    /// </summary>
    private MaskRingReader? TryOpen(out string why, out string state)
    {
        state = "absent";
        try
        {
            var reader = MaskRingReader.Open(options.Path, options.Trust);
            var writer = reader.WriterStatus(_staleAfter);
            state = writer.ToString().ToLowerInvariant();
            if (options.AnyWriter || writer == WriterState.Alive)
            {
                why = "";
                return reader;
            }
            why = writer == WriterState.Dead ? $"its writer (pid {reader.WriterPid}) is dead; its frames are old" : $"its writer is {state}; its frames are old";
            reader.Dispose();
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or IOException)
        {
            why = ex.Message;
            state = ex is FileNotFoundException ? "absent" : "refused";
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
        using var image = new Mat();
        MaskColours.Paint(mask, reader.Geometry.Height, reader.Geometry.Width, MaskColours.Table(reader.Palette), image);
        string path = Path.Combine(options.PngDir!, $"mask-{frameId:D8}.png");
        string temp = path + ".tmp.png";
        if (!Cv2.ImWrite(temp, image)) throw new IOException($"OpenCV could not write '{temp}'.");
        File.Move(temp, path, overwrite: true);
    }

    private static TapSummary Summary(long read, long skipped, long overruns, long crc, long mismatches, long restarts, long waits,
        RunningMean publishToRead, RunningMean captureToPublish, string state) =>
        new(read, skipped, overruns, crc, mismatches, restarts, publishToRead.Mean, publishToRead.Max, captureToPublish.Mean, state, waits);

    /// <summary>Mean, maximum and last of a series, in constant memory.</summary>
    private sealed class RunningMean
    {
        private double _sum;
        private long _count;

        public double Last { get; private set; }
        public double Max { get; private set; }
        public double Mean => _count > 0 ? _sum / _count : 0;

        public void Add(double value)
        {
            Last = value;
            Max = _count == 0 ? value : Math.Max(Max, value);
            _sum += value;
            _count++;
        }
    }

    /// <summary>
    /// <c>tap --list</c>: the rings in <paramref name="folder"/> (one per camera of a daemon), each opened with the same trust as any read —
    /// name, mask size, model, masks published and the writer's state; files that are not rings this user trusts are named with the reason.
    /// Returns 0 when at least one ring was listed, 2 otherwise.
    /// </summary>
    public static int List(string folder, RingTrust trust, TimeSpan staleAfter, TextWriter output)
    {
        if (!Directory.Exists(folder))
        {
            output.WriteLine($"no ring folder at '{folder}': is dannet-edge running (Output:Directory)?");
            return 2;
        }
        int rings = 0;
        foreach (var file in Directory.EnumerateFiles(folder)
                     .Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith(".lock", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            try
            {
                using var reader = MaskRingReader.Open(file, trust);
                output.WriteLine($"{Path.GetFileName(file),-16} {reader.Geometry.Width}x{reader.Geometry.Height}  {reader.Model}  " +
                    $"{reader.FramesPublished} masks  writer {reader.WriterStatus(staleAfter).ToString().ToLowerInvariant()}");
                rings++;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                output.WriteLine($"{Path.GetFileName(file),-16} not listed: {ex.Message.ReplaceLineEndings(" ")}");
            }
        }
        if (rings == 0) output.WriteLine($"no ring in '{folder}'.");
        return rings > 0 ? 0 : 2;
    }
}
