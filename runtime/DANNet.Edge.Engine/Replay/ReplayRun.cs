using DANNet.Model;
using DANNet.Model.IO;
using DANNet.Model.Scoring;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DANNet.Edge.Configuration;
using DANNet.Edge.Contracts;
using DANNet.Edge.Pipeline;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace DANNet.Edge.Replay;

/// <summary>What <c>dannet-edge replay</c> is asked to do.</summary>
public sealed record ReplayOptions(string Input)
{
    public string ModelPath { get; init; } = "";
    public ModelOptions Model { get; init; } = new() { Providers = ["cpu"] };
    public string? Overlay { get; init; }
    public string? MasksDir { get; init; }
    public bool Colour { get; init; }
    public string? Report { get; init; }
    public bool Realtime { get; init; }
    public int Every { get; init; } = 1;
    public string? RingPath { get; init; }
    public double Alpha { get; init; } = 0.5;
    public bool SideBySide { get; init; }

    /// <summary>Labels named by frame index (000123.png, 000123_gt_labelIds.png, …): per-frame and total mIoU.</summary>
    public string? LabelsDir { get; init; }

    /// <summary>The labels hold Cityscapes trainIds (0..18, 255) instead of labelIds.</summary>
    public bool LabelsAreTrainIds { get; init; }

    /// <summary>The size of the mask PNGs: the model's output (default) or each source frame's (nearest neighbour).</summary>
    public MaskSize MaskSize { get; init; } = MaskSize.Model;
}

/// <summary>The size replay writes masks at.</summary>
public enum MaskSize
{
    /// <summary>The model's output size, as published to the ring.</summary>
    Model,

    /// <summary>Each source frame's size, scaled by nearest neighbour (class ids are never blended).</summary>
    Source,
}

/// <summary>What a replay did: frames in and out, how it ended, and where the outputs are.</summary>
public sealed record ReplaySummary(long Frames, long Dropped, double Seconds, string Ending, int ExitCode, JsonObject Report);

/// <summary>
/// A recorded drive through the daemon's own source, pipeline and inference code (<see cref="FramePipeline"/>): every frame,
/// in order, by default (the capture waits for inference), or paced like a camera with <see cref="ReplayOptions.Realtime"/>
/// (then frames are dropped as the daemon drops them, and counted). Each processed frame can go to an overlay video (the
/// frame with the colour mask blended, a legend and a status line), trainId PNGs named by frame index, and a JSON-lines
/// report (stage latencies, class shares) ending in a summary. Frames of an image folder are named after their files: the mask of
/// <c>a/b/img_0007.jpg</c> is <c>img_0007.png</c>, its label is found by that name (<see cref="FrameLabels"/>), its report line says the file. Outputs are closed properly whatever ends the run:
/// a damaged file is played to its end (exit code 3), a fault stops it (exit code 1) with everything so far kept.
/// </summary>
public sealed class ReplayRun(ReplayOptions options, ILogger log)
{
    /// <summary>The exit code of a replay stopped by SIGINT or SIGTERM (its outputs complete up to the frame it reached).</summary>
    public const int Interrupted = 130;

    public ReplaySummary Run(IProgress<(long Done, long Total, double Fps)>? progress = null, CancellationToken cancel = default)
    {
        if (options.Every < 1) throw new ArgumentException("--every must be at least 1.");
        if (!(options.Alpha is >= 0 and <= 1)) throw new ArgumentException("--alpha must be between 0 and 1.");
        var labels = options.LabelsDir is { } l ? new FrameLabels(l, options.LabelsAreTrainIds) : null;
        var (total, sourceFps) = Recording(options.Input);
        // The overlay's name is checked (and ffmpeg looked for) before any model is loaded or frame read.
        using var video = options.Overlay is { } o ? new OverlayVideo(o, sourceFps) : null;
        var sourceOptions = new SourceOptions { Uri = options.Input, Loop = false, Realtime = options.Realtime };
        using var source = FrameSourceFactory.Create(sourceOptions);
        string modelPath = options.ModelPath.Length > 0 ? options.ModelPath : EdgeDefaults.ModelPath;
        using var session = SegmentationSession.Open(modelPath, options.Model, log);
        var info = session.Info;
        var writer = new Outputs(options, info, video);
        var scoring = labels is null ? null : new Scoring(labels);
        var latencies = new List<double>();
        var frameShares = new List<double[]>();
        var classPixels = new long[256];
        long frames = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string ending = "end of input";
        int exitCode = 0;
        try
        {
            using var temporary = options.RingPath is null ? TemporaryRing.For(info) : null;
            using var given = options.RingPath is { } path
                ? MaskRingWriter.Create(path, TemporaryRing.Geometry(info), TemporaryRing.Describe(info))
                : null;
            var ring = temporary?.Writer ?? given!;
            using var pipeline = new FramePipeline(source, session, ring, sourceOptions, log, options.Model.Resize, everyFrame: !options.Realtime,
                observer: (CapturedFrame frame, ReadOnlySpan<byte> mask, in FrameTimings t) =>
                {
                    long index = frame.Index;
                    frames++;
                    latencies.Add(t.TotalMs);
                    var counts = new long[256];
                    foreach (byte v in mask) counts[v]++;
                    for (int c = 0; c < 256; c++) classPixels[c] += counts[c];
                    double pixels = mask.Length;
                    var shares = counts.Take(info.Classes.Count).Select(c => c / pixels).ToArray();
                    frameShares.Add(shares);
                    double? miou = scoring?.Score(index, frame.Name, mask, info.Width, info.Height);
                    if (index % options.Every == 0) writer.Write(frame, mask, t, info, miou, shares);
                    progress?.Report((frames, total, frames / Math.Max(1e-3, clock.Elapsed.TotalSeconds)));
                });
            // The frame in flight finishes on a stop (the subscription ends after it); the outputs are closed and complete.
            var failure = pipeline.RunToEnd(cancel, out bool interrupted);
            if (interrupted)
            {
                ending = $"interrupted at frame {frames}";
                exitCode = Interrupted;
            }
            if (failure is not null)
            {
                ending = failure.Message;
                exitCode = 1;
                log.LogError("Replay stopped: {Message}", failure.Message);
            }
            else if (!interrupted && pipeline.Health.DamagedInput > 0)
            {
                ending = $"end of input, over damaged frames ({pipeline.Health.DamagedInput} time(s) skipped)";
                exitCode = 3;
            }
            var summary = Summary(frames, pipeline.Stats.Dropped, clock.Elapsed.TotalSeconds, ending, latencies, classPixels, info);
            if (scoring is not null) summary["evaluation"] = scoring.Summary(info);
            if (options.Report is { } report)
            {
                string plot = Path.ChangeExtension(report, ".png");
                Outputs.Place(plot, temp => ReplayPlot.Write(temp, latencies, frameShares, info.Classes, info.Palette));
                summary["plot"] = plot;
            }
            writer.Finish(summary);
            return new ReplaySummary(frames, pipeline.Stats.Dropped, clock.Elapsed.TotalSeconds, ending, exitCode, summary);
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>A recording's length in frames and its frame rate (0 and 10 fps when unknown: a folder has no rate, a stream no length).</summary>
    internal static (long Frames, double Fps) Recording(string input)
    {
        string path = input.StartsWith("file://", StringComparison.Ordinal) ? input["file://".Length..] : input;
        if (Directory.Exists(path))
            return (Directory.EnumerateFiles(path).Count(ImageFiles.IsImage), 10);
        if (!File.Exists(path)) return (0, 10);
        using var capture = new VideoCapture(path);
        if (!capture.IsOpened()) return (0, 10);
        return (Math.Max(0, (long)capture.Get(VideoCaptureProperties.FrameCount)), capture.Fps is > 0 and < 1000 ? capture.Fps : 10);
    }

    private static JsonObject Summary(long frames, long dropped, double seconds, string ending, List<double> latencies, long[] classPixels, ModelInfo info)
    {
        long pixels = classPixels.Sum();
        var shares = new JsonObject();
        for (int c = 0; c < info.Classes.Count; c++)
            if (classPixels[c] > 0) shares[info.Classes[c]] = Math.Round((double)classPixels[c] / pixels, 5);
        return new JsonObject
        {
            ["summary"] = true,
            ["frames"] = frames,
            ["dropped"] = dropped,
            ["seconds"] = Math.Round(seconds, 3),
            ["fps"] = Math.Round(frames / Math.Max(1e-3, seconds), 2),
            ["ending"] = ending,
            ["latency_ms"] = LatencySummary.Of(latencies).ToJson(),
            ["class_shares"] = shares,
            ["model"] = info.Architecture,
        };
    }

    /// <summary>Masks against the drive's labels (<see cref="FrameLabels"/>), with dannet-train eval's confusion matrix.</summary>
    private sealed class Scoring(FrameLabels labels)
    {
        private readonly ConfusionMatrix _total = new();
        public int Scored { get; private set; }

        public double? Score(long index, string? name, ReadOnlySpan<byte> mask, int width, int height)
        {
            if (labels.Load(index, name) is not { } label) return null;
            var frame = label.Score(mask, width, height);
            _total.Add(frame);
            Scored++;
            return frame.MeanIoU();
        }

        public JsonObject Summary(ModelInfo info)
        {
            var iou = _total.IoU();
            var classes = new JsonObject();
            for (int c = 0; c < iou.Length && c < info.Classes.Count; c++) classes[info.Classes[c]] = double.IsNaN(iou[c]) ? null : Math.Round(iou[c], 5);
            double m = _total.MeanIoU();
            return new JsonObject { ["frames_scored"] = Scored, ["miou"] = double.IsNaN(m) ? null : Math.Round(m, 5), ["iou"] = classes };
        }
    }

    /// <summary>
    /// The overlay video, the mask PNGs and the JSON-lines report. Every file is written under a fresh name
    /// (<c>.name.part-&lt;random&gt;.ext</c>, created exclusively: a file or link someone planted there is never
    /// opened) and renamed into place when complete — a PNG at once, the video and the report at the end,
    /// after the video is read back and counted. A run that fails leaves no half-written output and never
    /// writes through a link another user planted at an output's name.
    /// </summary>
    private sealed class Outputs(ReplayOptions options, ModelInfo info, OverlayVideo? video) : IDisposable
    {
        private StreamWriter? _report;
        private string? _reportTemp;
        private readonly Mat _colour = new(), _maskMat = new(), _big = new(), _blend = new();
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);

        public void Write(CapturedFrame captured, ReadOnlySpan<byte> mask, in FrameTimings t, ModelInfo model, double? miou, double[] frameShares)
        {
            long index = captured.Index;
            var frame = captured.Image;
            if (options.MasksDir is { } dir)
            {
                string name = MaskName(index, captured.Name);
                _maskMat.Create(model.Height, model.Width, MatType.CV_8UC1);
                unsafe { mask.CopyTo(new Span<byte>((void*)_maskMat.DataPointer, mask.Length)); }
                if (options.MaskSize == MaskSize.Source && _maskMat.Size() != frame.Size())
                    Cv2.Resize(_maskMat, _maskMat, frame.Size(), 0, 0, InterpolationFlags.Nearest);
                Directory.CreateDirectory(dir);
                WritePng(Path.Combine(dir, $"{name}.png"), _maskMat);
                if (options.Colour)
                {
                    Colourise(mask, _colour);
                    if (options.MaskSize == MaskSize.Source && _colour.Size() != frame.Size())
                        Cv2.Resize(_colour, _colour, frame.Size(), 0, 0, InterpolationFlags.Nearest);
                    WritePng(Path.Combine(dir, $"{name}_colour.png"), _colour);
                }
            }
            if (video is not null) WriteOverlay(video, index, frame, mask, t);
            if (options.Report is { } report)
            {
                _report ??= OpenReport(report);
                var shares = new JsonObject();
                foreach (int c in Enumerable.Range(0, frameShares.Length).Where(c => frameShares[c] > 0).OrderByDescending(c => frameShares[c]))
                    shares[model.Classes[c]] = Math.Round(frameShares[c], 5);
                var line = new JsonObject
                {
                    ["frame"] = index, ["file"] = captured.Name, ["source_ms"] = double.IsNaN(t.SourceMs) ? null : Math.Round(t.SourceMs, 3), ["capture_ns"] = t.CaptureNs,
                    ["ms"] = new JsonObject
                    {
                        ["queue"] = Math.Round(t.QueueMs, 3), ["preprocess"] = Math.Round(t.PreprocessMs, 3), ["infer"] = Math.Round(t.InferMs, 3),
                        ["publish"] = Math.Round(t.PublishMs, 3), ["total"] = Math.Round(t.TotalMs, 3),
                    },
                    ["class_shares"] = shares,
                };
                if (miou is { } m) line["miou"] = double.IsNaN(m) ? null : Math.Round(m, 5);
                _report.WriteLine(line.ToJsonString());
            }
        }

        private readonly byte[] _palette = MaskColours.Table(info.Palette);

        private void Colourise(ReadOnlySpan<byte> mask, Mat colour) => MaskColours.Paint(mask, info.Height, info.Width, _palette, colour);

        /// <summary>
        /// A frame's mask name: its index (000123) for a video, its file's name without the extension for an image folder
        /// (the whole file name when two images share a stem, as img.png and img.jpg do).
        /// </summary>
        private string MaskName(long index, string? file)
        {
            if (file is null) return $"{index:D6}";
            string stem = Path.GetFileNameWithoutExtension(file);
            return _names.Add(stem) ? stem : file;
        }

        private void WriteOverlay(OverlayVideo video, long index, Mat frame, ReadOnlySpan<byte> mask, in FrameTimings t)
        {
            Colourise(mask, _colour);
            Cv2.Resize(_colour, _big, frame.Size(), 0, 0, InterpolationFlags.Nearest);
            if (options.SideBySide) Cv2.HConcat([frame, _big], _blend);
            else Cv2.AddWeighted(frame, 1 - options.Alpha, _big, options.Alpha, 0, _blend);
            Legend(_blend, index, t);
            video.Write(_blend);
        }

        private void Legend(Mat image, long index, in FrameTimings t)
        {
            Cv2.PutText(image, string.Create(CultureInfo.InvariantCulture, $"frame {index}  {t.InferMs:F0} ms"), new Point(8, image.Rows - 10),
                HersheyFonts.HersheySimplex, 0.5, Scalar.White, 1, LineTypes.AntiAlias);
            int y = 8, rows = image.Rows;
            for (int c = 0; c < info.Classes.Count && y + 12 < rows - 24; c++, y += 14)
            {
                var colour = info.Palette[c];
                Cv2.Rectangle(image, new Rect(8, y, 10, 10), new Scalar(colour.B, colour.G, colour.R), -1);
                Cv2.PutText(image, info.Classes[c], new Point(22, y + 9), HersheyFonts.HersheySimplex, 0.35, Scalar.White, 1, LineTypes.AntiAlias);
            }
        }

        private StreamWriter OpenReport(string path)
        {
            _reportTemp = AtomicFile.CreateTemp(path);
            return new StreamWriter(new FileStream(_reportTemp, FileMode.Open, FileAccess.Write), new UTF8Encoding(false));
        }

        /// <summary>
        /// Writes a file through <paramref name="write"/> into a fresh temporary name (<see cref="AtomicFile.CreateTemp"/>),
        /// then renames it into place; no fsync per file (replay writes a PNG per frame).
        /// </summary>
        public static void Place(string path, Action<string> write)
        {
            string temp = AtomicFile.CreateTemp(path);
            try
            {
                write(temp);
                if (new FileInfo(temp).Length == 0) throw new IOException($"'{path}' came out empty (is the disk full?).");
                File.Move(temp, Path.GetFullPath(path), overwrite: true);
            }
            catch (IOException ex)
            {
                File.Delete(temp);
                throw new IOException($"'{path}' could not be written ({ex.Message}); nothing was left in its place.", ex);
            }
            catch
            {
                File.Delete(temp);
                throw;
            }
        }

        private static void WritePng(string path, Mat image)
        {
            if (!Cv2.ImEncode(".png", image, out byte[] png) || png.Length == 0) throw new IOException($"'{path}': OpenCV could not encode the PNG.");
            Place(path, temp => File.WriteAllBytes(temp, png));
        }

        /// <summary>Completes every output and renames it into place: the report ends with the summary; the video is read back and must hold every frame written.</summary>
        public void Finish(JsonObject summary)
        {
            if (options.Report is { } report)
            {
                _report ??= OpenReport(report);
                _report.WriteLine(summary.ToJsonString());
                _report.Flush();
                _report.Dispose();
                _report = null;
                File.Move(_reportTemp!, Path.GetFullPath(report), overwrite: true);
                _reportTemp = null;
            }
            video?.Finish();
        }

        public void Dispose()
        {
            try
            {
                _report?.Dispose();
            }
            catch (IOException)
            {
                // Closing flushes; on a full disk that fails too. The file is incomplete and goes below.
            }
            // Whatever was not completed goes: an output is complete or absent.
            // (the video deletes its own; its owner disposes it.)
            if (_reportTemp is not null) File.Delete(_reportTemp);
            foreach (var m in new[] { _colour, _maskMat, _big, _blend }) m.Dispose();
        }
    }
}
