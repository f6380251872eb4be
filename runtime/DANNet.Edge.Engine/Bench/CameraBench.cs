using System.Globalization;
using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.Pipeline;
using DANNet.Edge.Sources;
using DANNet.Model;
using Microsoft.Extensions.Logging.Abstractions;

namespace DANNet.Edge.Bench;

/// <summary>One camera's share of a <see cref="CameraBench"/> run: masks, drops, and capture→publish latency (ms).</summary>
public sealed record CameraShare(string Name, long Masks, long Dropped, LatencySummary CaptureToPublish);

/// <summary>
/// N cameras through one session, as the daemon runs them: aggregate masks per second, each camera's capture→publish latency, and the
/// fairness spread — (most − fewest masks of a camera) / mean masks per camera; 0 is perfectly even.
/// </summary>
public sealed record CameraBenchResult(ModelFacts Model, string Provider, int Threads, int Cameras, string Batching, int Masks, double Seconds,
    double MasksPerSecond, IReadOnlyList<CameraShare> PerCamera, double FairnessSpread);

/// <summary>
/// <c>dannet-edge bench --cameras N</c>: the same recording opened N times (or N recordings), each a camera paced at its own frame rate
/// like a real one, through the daemon's own <see cref="CameraPipeline"/> into N temporary rings; timed after warm-up masks.
/// </summary>
public static class CameraBench
{
    public static CameraBenchResult Run(string modelPath, IReadOnlyList<string> videos, ModelOptions options, int cameras, int masks, int warmup)
    {
        if (cameras is < 1 or > EdgeOptionsValidator.MaxCameras) throw new ArgumentException($"--cameras {cameras}: 1 to {EdgeOptionsValidator.MaxCameras}.");
        if (masks < cameras || warmup < 0) throw new ArgumentException($"--frames {masks}: at least one mask per camera ({cameras}); --warmup not negative.");
        using var session = SegmentationSession.Open(modelPath, options, NullLogger.Instance);
        var rings = new List<TemporaryRing>();
        var sources = new List<IFrameSource>();
        try
        {
            var feeds = new List<CameraFeed>();
            for (int c = 0; c < cameras; c++)
            {
                var sourceOptions = new SourceOptions { Uri = videos[c % videos.Count], Loop = true, Realtime = true };
                sources.Add(FrameSourceFactory.Create(sourceOptions));
                rings.Add(TemporaryRing.For(session.Info));
                feeds.Add(new CameraFeed($"camera{c}", sources[c], sourceOptions, rings[c].Writer));
            }
            using var pipeline = new CameraPipeline(feeds, session, NullLogger.Instance, options.Resize,
                batchWindow: TimeSpan.FromMilliseconds(options.BatchWindowMs));
            var latencies = Enumerable.Range(0, cameras).Select(_ => new List<double>(masks)).ToArray();
            var counted = new long[cameras];
            long[] droppedAtStart = new long[cameras];
            var clock = new System.Diagnostics.Stopwatch();
            int seen = 0;
            foreach (var frame in pipeline.Frames().Take(warmup + masks).ToEnumerable())
            {
                if (++seen == warmup + 1 || (seen == 1 && warmup == 0))
                {
                    clock.Start();
                    for (int c = 0; c < cameras; c++) droppedAtStart[c] = pipeline.Cameras[c].Dropped;
                }
                if (seen <= warmup) continue;
                latencies[frame.Camera].Add(frame.Timings.TotalMs);
                counted[frame.Camera]++;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            var shares = Enumerable.Range(0, cameras).Select(c => new CameraShare(pipeline.Cameras[c].Name, counted[c],
                pipeline.Cameras[c].Dropped - droppedAtStart[c], LatencySummary.Of(latencies[c]).Rounded(3))).ToList();
            double mean = (double)masks / cameras;
            var facts = PipelineBench.Facts(modelPath, session.Info);
            string batching = session.Info.Batch == 1 ? "turns (batch 1)"
                : string.Create(CultureInfo.InvariantCulture, $"batch {session.Info.Batch} (window {options.BatchWindowMs} ms)");
            return new CameraBenchResult(facts, session.Provider.Name(), options.Threads, cameras, batching, masks, Math.Round(seconds, 3),
                Math.Round(masks / seconds, 2), shares, Math.Round((counted.Max() - counted.Min()) / mean, 4));
        }
        finally
        {
            foreach (var s in sources) s.Dispose();
            foreach (var r in rings) r.Dispose();
        }
    }

    public static void Print(CameraBenchResult r, TextWriter output)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(r.Model.Path)}: {r.Model.Architecture} {r.Model.Width}x{r.Model.Height} {r.Model.Precision}; {r.Provider} " +
            $"({(r.Threads == 0 ? "default" : r.Threads.ToString(CultureInfo.InvariantCulture))} threads); {r.Cameras} camera(s), {r.Batching}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {r.Masks} masks in {r.Seconds:F1} s → {r.MasksPerSecond:F2} masks/s; fairness spread {r.FairnessSpread:F3} ((most − fewest) / mean per camera)"));
        output.WriteLine("  camera        masks  dropped   capture→publish p50 (ms)    p99 (ms)");
        foreach (var c in r.PerCamera)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {c.Name,-12}{c.Masks,6} {c.Dropped,8} {c.CaptureToPublish.P50,26:F1} {c.CaptureToPublish.P99,11:F1}"));
    }
}
