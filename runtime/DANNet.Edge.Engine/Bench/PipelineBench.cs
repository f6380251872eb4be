using System.Globalization;
using System.Security.Cryptography;
using DANNet.Edge.Configuration;
using DANNet.Edge.Contracts;
using DANNet.Edge.Pipeline;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using DANNet.Model;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace DANNet.Edge.Bench;

/// <summary>What a model is, for the report.</summary>
public sealed record ModelFacts(string Path, string Architecture, int Width, int Height, string Precision, long Bytes, string Sha256);

/// <summary>One model's benchmark: per stage and end to end (ms), and a bare inference loop on the same session in the same run.</summary>
public sealed record BenchResult(ModelFacts Model, string Provider, int Threads, int Frames, double Seconds, double Fps,
    LatencySummary Decode, LatencySummary Preprocess, LatencySummary Inference, LatencySummary Publish, LatencySummary EndToEnd,
    LatencySummary BareInference, double OverheadRatio, long ManagedBytesPerFrame, int Gen0Collections, int Gen1Collections, int Gen2Collections);

/// <summary>The whole report: the machine, and one or two models.</summary>
public sealed record BenchReport(string Machine, string Os, int Cores, IReadOnlyList<BenchResult> Results);

/// <summary>
/// trtexec's summary for the whole pipeline: the daemon's own frame source, then its own <see cref="FrameStages"/> (preprocess, infer into
/// a real ring slot, publish), timed stage by stage without pacing after warm-up, over a frame count or a time budget; then, in the same
/// run, a bare inference loop on the same session and input buffer, and the ratio of the two medians — the pipeline's own overhead.
/// </summary>
public static class PipelineBench
{
    public static BenchResult Run(string modelPath, string videoPath, ModelOptions options, int frames, int warmup, TimeSpan? budget = null)
    {
        if (frames < 1 || warmup < 0) throw new ArgumentException("At least one timed frame, and no negative warm-up.");
        using var session = SegmentationSession.Open(modelPath, options, NullLogger.Instance);
        var info = session.Info;
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = videoPath, Loop = true, Realtime = false });
        source.Open();
        using var ring = TemporaryRing.For(info);
        using var stages = new FrameStages(session, ring.Writer, options.Resize);
        using var frame = new Mat();
        using var frameInput = InputArray.Create(frame);
        double[] decode = new double[frames], preprocess = new double[frames], inference = new double[frames], publish = new double[frames], total = new double[frames];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long allocated = 0;
        int timed = 0;
        int[] gcBefore = Collections();
        for (int i = -warmup; timed < frames && (budget is not { } b || i < 0 || clock.Elapsed < b); i++)
        {
            if (i == 0)
            {
                clock.Restart();
                gcBefore = Collections();
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            ulong t0 = MonotonicClock.NowNs;
            if (source.Read(frame, out string? problem) != FrameReadStatus.Frame)
                throw new IOException($"'{videoPath}' gave no frame at frame {i + warmup}: {problem ?? "end of stream"}.");
            ulong t1 = MonotonicClock.NowNs;
            var t = stages.Run(frame, frameInput, t1);
            if (i < 0) continue;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            decode[timed] = Ms(t1 - t0);
            preprocess[timed] = Ms(t.Preprocessed - t1);
            inference[timed] = Ms(t.Inferred - t.Preprocessed);
            publish[timed] = Ms(t.Published - t.Inferred);
            total[timed] = Ms(t.Published - t0);
            timed++;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        int[] gc = Collections();
        // The bare loop: the same session and the same input buffer, nothing around it.
        var bare = new double[Math.Max(5, timed)];
        session.Time(bare);
        var endToEnd = LatencySummary.Of(total.AsSpan(0, timed));
        var bareInference = LatencySummary.Of(bare);
        LatencySummary Of(double[] v) => LatencySummary.Of(v.AsSpan(0, timed)).Rounded(4);
        return new BenchResult(Facts(modelPath, info), session.Provider.Name(), options.Threads, timed, Math.Round(seconds, 3), Math.Round(timed / seconds, 2),
            Of(decode), Of(preprocess), Of(inference), Of(publish), endToEnd.Rounded(4), bareInference.Rounded(4),
            Math.Round(endToEnd.P50 / bareInference.P50, 4), allocated / Math.Max(1, timed), gc[0] - gcBefore[0], gc[1] - gcBefore[1], gc[2] - gcBefore[2]);
    }

    /// <summary>
    /// The pipeline's publish stage alone, as it runs there: a mask of <paramref name="width"/>×<paramref name="height"/> is written into the
    /// next slot (untimed: in the daemon, ONNX Runtime writes it during inference), then the commit — checksum, slot header, latest frame
    /// id, heartbeat — is timed.
    /// </summary>
    public static LatencySummary Publishing(int width, int height, int frames)
    {
        using var temporary = TemporaryRing.Create(new RingGeometry(4, width, height, CityscapesClasses.Count),
            new RingDescription("bench", CityscapesClasses.Names, CityscapesClasses.Palette));
        var ring = temporary.Writer;
        var times = new double[frames];
        for (int i = -10; i < frames; i++)
        {
            Tap.TestPattern.Fill(ring.BeginFrame(), (ulong)(i + 10), CityscapesClasses.Count);
            ulong t = MonotonicClock.NowNs;
            ring.Commit(t);
            if (i >= 0) times[i] = Ms(MonotonicClock.NowNs - t);
        }
        return LatencySummary.Of(times);
    }

    public static BenchReport Report(IReadOnlyList<BenchResult> results) =>
        new(CpuName(), System.Runtime.InteropServices.RuntimeInformation.OSDescription, Environment.ProcessorCount, results);

    public static void Print(BenchReport report, TextWriter output)
    {
        output.WriteLine($"{report.Machine}, {report.Cores} cores, {report.Os}");
        foreach (var r in report.Results)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(r.Model.Path)}: {r.Model.Architecture} {r.Model.Width}x{r.Model.Height} {r.Model.Precision}, {r.Model.Bytes / 1e6:F1} MB, " +
                $"sha256 {r.Model.Sha256[..16]}; {r.Provider} ({(r.Threads == 0 ? "default" : r.Threads.ToString(CultureInfo.InvariantCulture))} threads), " +
                $"{r.Frames} frames in {r.Seconds:F1} s → {r.Fps:F1} fps"));
            output.WriteLine("  stage (ms)      min     mean      p50      p90      p95      p99      max");
            foreach (var (name, s) in new[] { ("decode", r.Decode), ("preprocess", r.Preprocess), ("inference", r.Inference), ("publish", r.Publish),
                         ("end to end", r.EndToEnd), ("bare inference", r.BareInference) })
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {name,-14}{s.Min,8:F3} {s.Mean,8:F3} {s.P50,8:F3} {s.P90,8:F3} {s.P95,8:F3} {s.P99,8:F3} {s.Max,8:F3}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  end-to-end p50 / bare p50 = {r.OverheadRatio:F3}; {r.ManagedBytesPerFrame} managed bytes/frame; GC {r.Gen0Collections}/{r.Gen1Collections}/" +
                $"{r.Gen2Collections} (gen 0/1/2)"));
        }
        if (report.Results.Count == 2)
        {
            var (a, b) = (report.Results[0], report.Results[1]);
            var (fast, slow) = a.EndToEnd.P50 <= b.EndToEnd.P50 ? (a, b) : (b, a);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(fast.Model.Path)} is {slow.EndToEnd.P50 / fast.EndToEnd.P50:F2}x faster than {Path.GetFileName(slow.Model.Path)} (end-to-end p50)"));
        }
    }

    private static int[] Collections() => [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];

    private static double Ms(ulong ns) => ns / 1e6;

    /// <summary>The model's path, architecture, size, precision, bytes and SHA-256, for a report.</summary>
    public static ModelFacts Facts(string path, ModelInfo info)
    {
        using var file = File.OpenRead(path);
        string sha = Convert.ToHexString(SHA256.HashData(file)).ToLowerInvariant();
        return new ModelFacts(path, info.Architecture, info.Width, info.Height, ModelCard.PrecisionName(info.Card.Precision), file.Length, sha);
    }

    private static string CpuName()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
