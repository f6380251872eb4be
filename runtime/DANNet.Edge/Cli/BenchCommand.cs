using DANNet.Edge.Bench;
using DANNet.Model;
using DANNet.Model.IO;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DANNet.Edge.Configuration;
using DANNet.Edge.Contracts;
using DANNet.Edge.Sources;

namespace DANNet.Edge.Cli;

/// <summary>
/// <c>dannet-edge bench</c>, trtexec's summary for the whole pipeline: per stage (decode, preprocess, inference, publish into a real
/// ring) and end to end, exact nearest-rank percentiles after warm-up (<see cref="PipelineBench"/> does the work), over a frame count or a time budget; then, in the same run, a bare
/// inference loop on the same session and input buffer, and the ratio of the two medians — the pipeline's own overhead.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo?>("--model", "-m") { Description = "Exported .onnx model (default: the embedded one)." };
        var compare = new Option<FileInfo?>("--compare") { Description = "A second model to time in the same run on the same frames (e.g. float vs int8)." };
        var video = new Option<FileInfo?>("--video") { Description = "Frames to feed (default: the embedded night drive)." };
        var frames = new Option<int>("--frames", "-n") { Description = "Timed frames (with --seconds: at most).", DefaultValueFactory = _ => 50 };
        var seconds = new Option<double>("--seconds") { Description = "A time budget instead of a frame count (0: use --frames).", DefaultValueFactory = _ => 0 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed frames first.", DefaultValueFactory = _ => 5 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON here." };
        var resize = SharedOptions.Resize;
        var publishSize = new Option<string?>("--publish") { Description = "Instead: time publishing alone (write a mask into a ring slot and commit it, " +
            "CRC included) for masks of this size, e.g. 960x540." };
        var cameras = new Option<int>("--cameras") { Description = "Instead: N cameras through one model, as the daemon runs them (the video opened N " +
            "times, each paced like a camera): masks/s over all, capture→publish p50/p99 per camera, and the fairness spread; --frames counts masks.",
            DefaultValueFactory = _ => 0, HelpName = "N" };
        var command = new Command("bench", "Measure the pipeline per stage (decode, preprocess, inference, publish to a ring) and end to end, and a bare " +
            "inference loop in the same run: min/mean/p50/p90/p95/p99/max, fps, managed bytes per frame, GC counts; --compare times two models.")
        {
            model, compare, video, SharedOptions.Providers, frames, seconds, warmup, SharedOptions.Threads, resize, json, publishSize, cameras,
        };
        command.SetAction(parse =>
        {
            try
            {
                var options = new ModelOptions
                {
                    Providers = SharedOptions.ProviderList(parse),
                    Threads = parse.GetValue(SharedOptions.Threads),
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
                    var stage = PipelineBench.Publishing(w, h, Math.Max(parse.GetValue(frames), 100));
                    Console.WriteLine($"publish {w}x{h}, {stage.Count} frames (ms): {stage.ToString(4)}");
                    return 0;
                }
                string videoPath = parse.GetValue(video)?.FullName ?? EdgeDefaults.VideoPath;
                if (parse.GetValue(cameras) > 0)
                {
                    var result = CameraBench.Run(parse.GetValue(model)?.FullName ?? EdgeDefaults.ModelPath, [videoPath], options, parse.GetValue(cameras),
                        parse.GetValue(frames), parse.GetValue(warmup));
                    CameraBench.Print(result, Console.Out);
                    if (parse.GetValue(json) is { } camerasFile)
                        AtomicFile.WriteAllText(camerasFile.FullName, JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
                    return 0;
                }
                var budget = parse.GetValue(seconds) > 0 ? TimeSpan.FromSeconds(parse.GetValue(seconds)) : (TimeSpan?)null;
                var models = new[] { parse.GetValue(model)?.FullName ?? EdgeDefaults.ModelPath }.Concat(parse.GetValue(compare) is { } c ? [c.FullName] : []);
                var report = PipelineBench.Report(models.Select(m => PipelineBench.Run(m, videoPath, options, parse.GetValue(frames), parse.GetValue(warmup), budget))
                    .ToList());
                PipelineBench.Print(report, Console.Out);
                if (parse.GetValue(json) is { } file)
                    AtomicFile.WriteAllText(file.FullName, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
                return 0;
            }
            catch (Exception ex) when (CommandErrors.IsFixable(ex))
            {
                Console.Error.WriteLine($"error: {ex.Message.ReplaceLineEndings(" ")}");
                return 1;
            }
        });
        return command;
    }
}
