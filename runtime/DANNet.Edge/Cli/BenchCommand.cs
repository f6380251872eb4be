using DANNet.Edge.Contracts;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DANNet.Edge.Configuration;
using DANNet.Edge.Inference;
using DANNet.Edge.Sources;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace DANNet.Edge.Cli;

/// <summary><c>dannet-edge bench</c>: inference latency of a model on real frames, per provider, like trtexec's summary.</summary>
internal static class BenchCommand
{
    /// <summary>One benchmark's numbers (milliseconds).</summary>
    public sealed record BenchResult(string Model, string Provider, int Width, int Height, int Frames, int Threads,
        double MeanMs, double P50Ms, double P90Ms, double P99Ms, double MaxMs, double Fps, double PreprocessMeanMs, long AllocatedBytesPerFrame);

    public static Command Create()
    {
        var model = new Option<FileInfo?>("--model", "-m") { Description = "Exported .onnx model (default: the embedded one)." };
        var video = new Option<FileInfo?>("--video") { Description = "Frames to feed (default: the embedded night drive)." };
        var providers = new Option<string>("--providers") { Description = "Execution providers in order (tensorrt,cuda,cpu); the first that loads is " +
            "measured.", DefaultValueFactory = _ => "tensorrt,cuda,cpu" };
        var frames = new Option<int>("--frames", "-n") { Description = "Timed frames.", DefaultValueFactory = _ => 50 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed frames first.", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "CPU intra-op threads (0: ONNX Runtime's default).", DefaultValueFactory = _ => 0 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the result as JSON here." };
        var resize = new Option<InputResize>("--resize") { Description = "Frame → model input resize (Model:Resize): area (the default), antialiased " +
            "(PIL's, as evaluation) or linear.", DefaultValueFactory = _ => InputResize.Area, HelpName = "area|antialiased|linear" };
        var command = new Command("bench", "Measure inference latency (preprocess + ONNX Runtime) on real frames: mean, p50/p90/p99, max, fps and managed allocations per frame.")
        {
            model, video, providers, frames, warmup, threads, resize, json,
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
                if (parse.GetValue(frames) < 1 || parse.GetValue(warmup) < 0) throw new ArgumentException("--frames must be at least 1 and --warmup not negative.");
                var result = Run(parse.GetValue(model)?.FullName ?? EdgeDefaults.ModelPath, parse.GetValue(video)?.FullName ?? EdgeDefaults.VideoPath,
                    options, parse.GetValue(frames), parse.GetValue(warmup));
                Print(result, Console.Out);
                if (parse.GetValue(json) is { } file)
                {
                    string temp = file.FullName + ".tmp";
                    File.WriteAllText(temp, JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
                    File.Move(temp, file.FullName, overwrite: true);
                }
                return 0;
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or ArgumentException or FrameSourceException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });
        return command;
    }

    internal static BenchResult Run(string modelPath, string videoPath, ModelOptions options, int frames, int warmup)
    {
        using var session = SegmentationSession.Open(modelPath, options, NullLogger.Instance);
        var size = new Size(session.Info.Width, session.Info.Height);
        // The daemon's own frame source: the same decoding, looping and errors, without pacing.
        using var source = FrameSourceFactory.Create(new SourceOptions { Uri = videoPath, Loop = true, Realtime = false });
        source.Open();
        using var input = new ModelInput(session, options.Resize);
        using var frame = new Mat();
        using var frameInput = InputArray.Create(frame);
        var latency = new double[frames];
        var preprocess = new double[frames];
        long allocated = 0;
        for (int i = -warmup; i < frames; i++)
        {
            if (source.Read(frame, out string? problem) != FrameReadStatus.Frame)
                throw new IOException($"'{videoPath}' gave no frame at frame {i + warmup}: {problem ?? "end of stream"}.");
            long before = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            input.Load(frame, frameInput);
            double pre = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            session.Run();
            double total = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (i < 0) continue;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            latency[i] = total;
            preprocess[i] = pre;
        }
        var sorted = latency.Order().ToArray();
        double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new BenchResult(modelPath, session.Provider.Name(), size.Width, size.Height, frames, options.Threads,
            latency.Average(), P(0.5), P(0.9), P(0.99), sorted[^1], 1000 / latency.Average(), preprocess.Average(), allocated / frames);
    }

    internal static void Print(BenchResult r, TextWriter output) => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{Path.GetFileName(r.Model)} {r.Width}x{r.Height} on {r.Provider} ({(r.Threads == 0 ? "default" : r.Threads.ToString(CultureInfo.InvariantCulture))} threads), {r.Frames} frames: " +
        $"mean {r.MeanMs:F1} ms, p50 {r.P50Ms:F1}, p90 {r.P90Ms:F1}, p99 {r.P99Ms:F1}, max {r.MaxMs:F1} → {r.Fps:F1} fps; preprocess " +
            $"{r.PreprocessMeanMs:F2} ms; {r.AllocatedBytesPerFrame} managed bytes/frame"));
}
