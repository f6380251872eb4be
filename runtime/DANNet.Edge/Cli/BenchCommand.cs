using DANNet.Model;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using DANNet.Edge.Configuration;
using DANNet.Edge.Contracts;
using DANNet.Edge.Pipeline;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using HdrHistogram;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace DANNet.Edge.Cli;

/// <summary>
/// <c>dannet-edge bench</c>, trtexec's summary for the whole pipeline: per stage (decode, preprocess, inference, publish into a real
/// ring) and end to end, HdrHistogram percentiles after warm-up, over a frame count or a time budget; then, in the same run, a bare
/// inference loop on the same session and input buffer, and the ratio of the two medians — the pipeline's own overhead.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Percentiles of one stage, in milliseconds.</summary>
    public sealed record Stage(double Min, double Mean, double P50, double P90, double P95, double P99, double Max)
    {
        public static Stage Of(LongHistogram h) => new(Ms(h.GetValueAtPercentile(0)), h.GetMean() / 1e6, Ms(h.GetValueAtPercentile(50)),
            Ms(h.GetValueAtPercentile(90)), Ms(h.GetValueAtPercentile(95)), Ms(h.GetValueAtPercentile(99)), Ms(h.GetMaxValue()));

        private static double Ms(long ns) => Math.Round(ns / 1e6, 4);
    }

    /// <summary>What a model is, for the report.</summary>
    public sealed record ModelFacts(string Path, string Architecture, int Width, int Height, string Precision, long Bytes, string Sha256);

    /// <summary>One model's benchmark.</summary>
    public sealed record BenchResult(ModelFacts Model, string Provider, int Threads, int Frames, double Seconds, double Fps,
        Stage Decode, Stage Preprocess, Stage Inference, Stage Publish, Stage EndToEnd, Stage BareInference, double OverheadRatio,
        long ManagedBytesPerFrame, int Gen0Collections, int Gen1Collections, int Gen2Collections)
    {
        public double P50Ms => EndToEnd.P50;
    }

    /// <summary>The whole report: the machine, and one or two models.</summary>
    public sealed record BenchReport(string Machine, string Os, int Cores, IReadOnlyList<BenchResult> Results);

    public static Command Create()
    {
        var model = new Option<FileInfo?>("--model", "-m") { Description = "Exported .onnx model (default: the embedded one)." };
        var compare = new Option<FileInfo?>("--compare") { Description = "A second model to time in the same run on the same frames (e.g. float vs int8)." };
        var video = new Option<FileInfo?>("--video") { Description = "Frames to feed (default: the embedded night drive)." };
        var providers = new Option<string>("--providers") { Description = "Execution providers in order (tensorrt,cuda,cpu); the first that loads is " +
            "measured.", DefaultValueFactory = _ => "tensorrt,cuda,cpu" };
        var frames = new Option<int>("--frames", "-n") { Description = "Timed frames (with --seconds: at most).", DefaultValueFactory = _ => 50 };
        var seconds = new Option<double>("--seconds") { Description = "A time budget instead of a frame count (0: use --frames).", DefaultValueFactory = _ => 0 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed frames first.", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "CPU intra-op threads (0: ONNX Runtime's default).", DefaultValueFactory = _ => 0 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON here." };
        var resize = RunCommand.Resize;
        var publishSize = new Option<string?>("--publish") { Description = "Instead: time publishing alone (write a mask into a ring slot and commit it, " +
            "CRC included) for masks of this size, e.g. 960x540." };
        var command = new Command("bench", "Measure the pipeline per stage (decode, preprocess, inference, publish to a ring) and end to end, and a bare " +
            "inference loop in the same run: min/mean/p50/p90/p95/p99/max, fps, managed bytes per frame, GC counts; --compare times two models.")
        {
            model, compare, video, providers, frames, seconds, warmup, threads, resize, json, publishSize,
        };
        command.SetAction(parse =>
        {
            try
            {
                var options = new ModelOptions
                {
                    Providers = parse.GetValue(providers)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                    Threads = parse.GetValue(threads),
                    Resize = parse.GetValue(resize),
                };
                var problems = EdgeOptionsValidator.Problems(new EdgeOptions { Model = options });
                if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
                if (parse.GetValue(frames) < 1 || parse.GetValue(warmup) < 0 || parse.GetValue(seconds) < 0)
                    throw new ArgumentException("--frames must be at least 1, --warmup and --seconds not negative.");
                if (parse.GetValue(publishSize) is { } size)
                {
                    var parts = size.Split('x');
                    if (parts.Length != 2 || !int.TryParse(parts[0], out int w) || !int.TryParse(parts[1], out int h))
                        throw new ArgumentException($"--publish '{size}': give WIDTHxHEIGHT, e.g. 960x540.");
                    var stage = Publishing(w, h, Math.Max(parse.GetValue(frames), 100));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"publish {w}x{h}, {Math.Max(parse.GetValue(frames), 100)} frames (ms): min {stage.Min:F4}, mean {stage.Mean:F4}, p50 {stage.P50:F4}, " +
                        $"p99 {stage.P99:F4}, max {stage.Max:F4}"));
                    return 0;
                }
                string videoPath = parse.GetValue(video)?.FullName ?? EdgeDefaults.VideoPath;
                var budget = parse.GetValue(seconds) > 0 ? TimeSpan.FromSeconds(parse.GetValue(seconds)) : (TimeSpan?)null;
                var models = new[] { parse.GetValue(model)?.FullName ?? EdgeDefaults.ModelPath }.Concat(parse.GetValue(compare) is { } c ? [c.FullName] : []);
                var results = models.Select(m => Run(m, videoPath, options, parse.GetValue(frames), parse.GetValue(warmup), budget)).ToList();
                var report = new BenchReport(CpuName(), System.Runtime.InteropServices.RuntimeInformation.OSDescription, Environment.ProcessorCount, results);
                Print(report, Console.Out);
                if (parse.GetValue(json) is { } file)
                {
                    string temp = file.FullName + ".tmp";
                    File.WriteAllText(temp, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
                    File.Move(temp, file.FullName, overwrite: true);
                }
                return 0;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or ArgumentException or FrameSourceException
                                           or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                Console.Error.WriteLine($"error: {ex.Message.ReplaceLineEndings(" ")}");
                return 1;
            }
        });
        return command;
    }

    internal static BenchResult Run(string modelPath, string videoPath, ModelOptions options, int frames, int warmup, TimeSpan? budget = null)
    {
        using var session = SegmentationSession.Open(modelPath, options, NullLogger.Instance);
        var info = session.Info;
        // The daemon's own frame source, input and ring output: the same decoding, resize and publishing, without pacing.
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = videoPath, Loop = true, Realtime = false });
        source.Open();
        using var ring = TemporaryRing.For(info);
        {
            using var output = new RingOutput(session, ring.Writer);
            using var input = new ModelInput(session, options.Resize);
            using var frame = new Mat();
            using var frameInput = InputArray.Create(frame);
            const long Highest = 60L * 1_000_000_000;
            var decode = new LongHistogram(Highest, 3);
            var preprocess = new LongHistogram(Highest, 3);
            var inference = new LongHistogram(Highest, 3);
            var publish = new LongHistogram(Highest, 3);
            var total = new LongHistogram(Highest, 3);
            var clock = Stopwatch.StartNew();
            long allocated = 0;
            int timed = 0;
            int[] gcBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            for (int i = -warmup; budget is { } b ? clock.Elapsed < b + TimeSpan.Zero && timed < frames : timed < frames; i++)
            {
                if (i == 0)
                {
                    clock.Restart();
                    gcBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
                }
                long before = GC.GetAllocatedBytesForCurrentThread();
                long t0 = Stopwatch.GetTimestamp();
                if (source.Read(frame, out string? problem) != FrameReadStatus.Frame)
                    throw new IOException($"'{videoPath}' gave no frame at frame {i + warmup}: {problem ?? "end of stream"}.");
                long t1 = Stopwatch.GetTimestamp();
                input.Load(frame, frameInput);
                long t2 = Stopwatch.GetTimestamp();
                output.Infer();
                long t3 = Stopwatch.GetTimestamp();
                output.Commit(MonotonicClock.NowNs);
                long t4 = Stopwatch.GetTimestamp();
                if (i < 0) continue;
                allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                decode.RecordValue(Ns(t1 - t0));
                preprocess.RecordValue(Ns(t2 - t1));
                inference.RecordValue(Ns(t3 - t2));
                publish.RecordValue(Ns(t4 - t3));
                total.RecordValue(Ns(t4 - t0));
                timed++;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            int[] gc = [GC.CollectionCount(0) - gcBefore[0], GC.CollectionCount(1) - gcBefore[1], GC.CollectionCount(2) - gcBefore[2]];
            // The bare loop: the same session and the same input buffer, nothing around it.
            var bare = new LongHistogram(Highest, 3);
            for (int i = 0; i < Math.Max(5, timed); i++)
            {
                long t = Stopwatch.GetTimestamp();
                session.Run();
                bare.RecordValue(Ns(Stopwatch.GetTimestamp() - t));
            }
            var endToEnd = Stage.Of(total);
            var bareStage = Stage.Of(bare);
            return new BenchResult(Facts(modelPath, info), session.Provider.Name(), options.Threads, timed, Math.Round(seconds, 3), Math.Round(timed / seconds, 2),
                Stage.Of(decode), Stage.Of(preprocess), Stage.Of(inference), Stage.Of(publish), endToEnd, bareStage,
                Math.Round(endToEnd.P50 / bareStage.P50, 4), allocated / Math.Max(1, timed), gc[0], gc[1], gc[2]);
        }
    }

    /// <summary>Publishing alone: a mask of <paramref name="width"/>×<paramref name="height"/> written into a slot and committed (CRC-32 included).</summary>
    internal static Stage Publishing(int width, int height, int frames)
    {
        using var temporary = TemporaryRing.Create(new RingGeometry(4, width, height, CityscapesClasses.Count),
            new RingDescription("bench", CityscapesClasses.Names, CityscapesClasses.All.Select(c => (c.Color.R, c.Color.G, c.Color.B)).ToArray()));
        var ring = temporary.Writer;
        {
            var histogram = new LongHistogram(60L * 1_000_000_000, 3);
            for (int i = -10; i < frames; i++)
            {
                long t = Stopwatch.GetTimestamp();
                ring.BeginFrame()[0] = (byte)(i & 15);
                ring.Commit(MonotonicClock.NowNs);
                if (i >= 0) histogram.RecordValue(Ns(Stopwatch.GetTimestamp() - t));
            }
            return Stage.Of(histogram);
        }
    }

    private static long Ns(long ticks) => Math.Max(1, (long)(ticks * (1e9 / Stopwatch.Frequency)));

    private static ModelFacts Facts(string path, ModelInfo info)
    {
        using var file = File.OpenRead(path);
        string sha = Convert.ToHexString(SHA256.HashData(file)).ToLowerInvariant();
        return new ModelFacts(path, info.Architecture, info.Width, info.Height, ModelCard.PrecisionName(info.Card.Precision),
            new FileInfo(path).Length, sha);
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

    internal static void Print(BenchReport report, TextWriter output)
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
                $"  end-to-end p50 / bare p50 = {r.OverheadRatio:F3}; {r.ManagedBytesPerFrame} managed bytes/frame; GC {r.Gen0Collections}/{r.Gen1Collections}/{r.Gen2Collections} (gen 0/1/2)"));
        }
        if (report.Results.Count == 2)
        {
            var (a, b) = (report.Results[0], report.Results[1]);
            var (fast, slow) = a.EndToEnd.P50 <= b.EndToEnd.P50 ? (a, b) : (b, a);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(fast.Model.Path)} is {slow.EndToEnd.P50 / fast.EndToEnd.P50:F2}x faster than {Path.GetFileName(slow.Model.Path)} (end-to-end p50)"));
        }
    }
}
