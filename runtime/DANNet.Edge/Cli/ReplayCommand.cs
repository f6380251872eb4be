using DANNet.Model;
using System.CommandLine;
using System.Globalization;
using DANNet.Edge.Configuration;
using DANNet.Edge.Replay;
using DANNet.Edge.Sources;
using Microsoft.Extensions.Logging;

namespace DANNet.Edge.Cli;

/// <summary><c>dannet-edge replay</c>: a recorded drive through the daemon's pipeline, every frame, into a video, PNGs and a report.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "A recorded drive: a video file (mp4/h264, avi/MJPG…), a folder of images, or a URI as for 'run'." };
        var model = new Option<string?>("--model", "-m") { Description = "Exported .onnx model (default: the embedded SynthNight model)." };
        var overlay = new Option<string?>("--overlay") { Description = "Write an overlay video here — .mp4 (H.264, encoded by ffmpeg) or .avi (MJPG, by OpenCV): " +
            "each frame with its colour mask blended, a class legend and a status line, at the source's frame rate." };
        var alpha = new Option<double>("--alpha") { Description = "Mask opacity in the overlay (0..1).", DefaultValueFactory = _ => 0.5 };
        var side = new Option<bool>("--side-by-side") { Description = "Overlay as frame | mask next to each other instead of blended." };
        var masks = new Option<string?>("--masks") { Description = "Write each mask as a trainId PNG into this folder, named by frame index (000123.png) for a " +
            "video, after its image (img_0042.jpg → img_0042.png) for a folder." };
        var maskSize = new Option<MaskSize>("--mask-size") { Description = "Mask PNGs at the model's output size or each source frame's (nearest neighbour).",
            DefaultValueFactory = _ => MaskSize.Model };
        var colour = new Option<bool>("--colour") { Description = "With --masks: also a colour PNG per frame." };
        var report = new Option<string?>("--report") { Description = "JSON lines: one per frame (index, source timestamp, stage latencies, class shares), then a summary; " +
            "and a PNG plot of latency and class shares over the frames next to it (report.png)." };
        var realtime = new Option<bool>("--realtime") { Description = "Pace the input like a camera and drop frames as 'run' does (counted); default: every frame, in order." };
        var every = new Option<int>("--every") { Description = "Write every N-th frame to the overlay, masks and report.", DefaultValueFactory = _ => 1 };
        var ring = new Option<string?>("--ring") { Description = "Also publish to this ring (its folder must be yours); default: a private temporary ring." };
        var labels = new Option<string?>("--labels") { Description = "Labels for the frames — by file name for an image folder (img.png, img_gt_labelIds.png, " +
            "and Dark Zurich's _rgb_anon / Cityscapes' _leftImg8bit pairs), by index for a video (000123.png, 000123_gt_labelIds.png): per-frame " +
            "and total mIoU in the report, with dannet-train eval's code (the mask scaled to the label by nearest neighbour)." };
        var labelTrainIds = new Option<bool>("--label-trainids") { Description = "The labels hold trainIds (0..18, 255), not Cityscapes labelIds." };
        var command = new Command("replay", "Replay a recorded drive through the daemon's pipeline: every frame in order (or --realtime), an overlay video, " +
            "mask PNGs and a per-frame latency and class report; a progress line with fps and ETA.")
        {
            input, model, overlay, alpha, side, masks, maskSize, colour, report, realtime, every, ring, labels, labelTrainIds, SharedOptions.Providers, SharedOptions.Threads, SharedOptions.Resize,
        };
        command.SetAction((parse, cancel) =>
        {
            using var factory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            var options = new ReplayOptions(parse.GetValue(input)!)
            {
                ModelPath = parse.GetValue(model) ?? "",
                Model = new ModelOptions
                {
                    Providers = SharedOptions.ProviderList(parse),
                    Threads = parse.GetValue(SharedOptions.Threads),
                    Resize = parse.GetValue(SharedOptions.Resize),
                },
                Overlay = parse.GetValue(overlay), Alpha = parse.GetValue(alpha), SideBySide = parse.GetValue(side), MasksDir = parse.GetValue(masks), MaskSize = parse.GetValue(maskSize),
                Colour = parse.GetValue(colour), Report = parse.GetValue(report), Realtime = parse.GetValue(realtime), Every = parse.GetValue(every), RingPath = parse.GetValue(ring),
                LabelsDir = parse.GetValue(labels), LabelsAreTrainIds = parse.GetValue(labelTrainIds),
            };
            // SIGINT and SIGTERM finish the frame in flight, close every output and write the summary ("interrupted at frame N", exit 130).
            using var stop = new StopSignals(cancel);
            var line = new ProgressLine(Console.Error);
            try
            {
                var summary = new ReplayRun(options, factory.CreateLogger("replay")).Run(new Counter(line), stop.Token);
                line.End();
                var latency = summary.Report["latency_ms"]!;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"replayed {summary.Frames} frames in {summary.Seconds:F1} s ({summary.Frames / Math.Max(1e-3, summary.Seconds):F1} fps), dropped {summary.Dropped}; " +
                    $"capture→mask p50 {latency["p50"]} ms, p99 {latency["p99"]} ms; {summary.Ending}{Scores(summary)}"));
                return Task.FromResult(summary.ExitCode);
            }
            catch (Exception ex) when (CommandErrors.IsFixable(ex) || ex is InvalidOperationException)
            {
                line.End();
                Console.Error.WriteLine($"dannet-edge replay: {ex.Message.ReplaceLineEndings(" ")}");
                return Task.FromResult(ex is ArgumentException ? 2 : 1);
            }
        });
        return command;
    }

    private static string Scores(ReplaySummary summary) =>
        summary.Report["evaluation"] is { } e ? $"; mIoU {e["miou"]} over {e["frames_scored"]} labelled frames" : "";

    /// <summary>"frame 120/300, 11.5 fps, ETA 16 s" on the progress line.</summary>
    private sealed class Counter(ProgressLine line) : IProgress<(long Done, long Total, double Fps)>
    {
        public void Report((long Done, long Total, double Fps) p)
        {
            string eta = p.Total > 0 && p.Fps > 0 ? string.Create(CultureInfo.InvariantCulture, $", ETA {(p.Total - p.Done) / p.Fps:F0} s") : "";
            line.Report(string.Create(CultureInfo.InvariantCulture, $"frame {p.Done}{(p.Total > 0 ? $"/{p.Total}" : "")}, {p.Fps:F1} fps{eta}"), p.Done, p.Total);
        }
    }
}
