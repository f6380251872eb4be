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
}

/// <summary>What a replay did: frames in and out, how it ended, and where the outputs are.</summary>
public sealed record ReplaySummary(long Frames, long Dropped, double Seconds, string Ending, int ExitCode, JsonObject Report);

/// <summary>
/// A recorded drive through the daemon's own source, pipeline and inference code (<see cref="FramePipeline"/>): every frame,
/// in order, by default (the capture waits for inference), or paced like a camera with <see cref="ReplayOptions.Realtime"/>
/// (then frames are dropped as the daemon drops them, and counted). Each processed frame can go to an overlay video (the
/// frame with the colour mask blended, a legend and a status line), trainId PNGs named by frame index, and a JSON-lines
/// report (stage latencies, class shares) ending in a summary. Outputs are closed properly whatever ends the run:
/// a damaged file is played to its end (exit code 3), a fault stops it (exit code 1) with everything so far kept.
/// </summary>
public sealed class ReplayRun(ReplayOptions options, ILogger log)
{
    public const string OverlayCodec = "MJPG";

    /// <summary>The exit code of a replay stopped by SIGINT or SIGTERM (its outputs complete up to the frame it reached).</summary>
    public const int Interrupted = 130;

    public ReplaySummary Run(IProgress<(long Done, long Total, double Fps)>? progress = null, CancellationToken cancel = default)
    {
        if (options.Every < 1) throw new ArgumentException("--every must be at least 1.");
        if (!(options.Alpha is >= 0 and <= 1)) throw new ArgumentException("--alpha must be between 0 and 1.");
        if (options.LabelsDir is { } l && !Directory.Exists(l)) throw new ArgumentException($"--labels '{l}' is not a folder.");
        if (options.Overlay is { } o && Path.GetExtension(o).ToLowerInvariant() is not ".avi")
            throw new ArgumentException($"--overlay '{o}': this OpenCV build writes {OverlayCodec} video into .avi files; give a name ending in .avi.");
        var sourceOptions = new SourceOptions { Uri = options.Input, Loop = false, Realtime = options.Realtime };
        using var source = FrameSourceFactory.Create(sourceOptions);
        var (total, sourceFps) = Recording(options.Input);
        string modelPath = options.ModelPath.Length > 0 ? options.ModelPath : EdgeDefaults.ModelPath;
        using var session = SegmentationSession.Open(modelPath, options.Model, log);
        var info = session.Info;
        var writer = new Outputs(options, info, log, sourceFps);
        var scoring = options.LabelsDir is { } labels ? new Scoring(labels, options.LabelsAreTrainIds) : null;
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
                observer: (long index, Mat frame, ReadOnlySpan<byte> mask, in FrameTimings t) =>
                {
                    frames++;
                    latencies.Add(t.TotalMs);
                    var counts = new long[256];
                    foreach (byte v in mask) counts[v]++;
                    for (int c = 0; c < 256; c++) classPixels[c] += counts[c];
                    double pixels = mask.Length;
                    var shares = counts.Take(info.Classes.Count).Select(c => c / pixels).ToArray();
                    frameShares.Add(shares);
                    double? miou = scoring?.Score(index, mask, info.Width, info.Height);
                    if (index % options.Every == 0) writer.Write(index, frame, mask, t, info, miou, shares);
                    progress?.Report((frames, total, frames / Math.Max(1e-3, clock.Elapsed.TotalSeconds)));
                });
            var done = new ManualResetEventSlim();
            Exception? failure = null;
            using (pipeline.Frames().Subscribe(_ => { }, ex => { failure = ex; done.Set(); }, done.Set))
            {
                while (!done.Wait(100))
                    if (cancel.IsCancellationRequested)
                    {
                        // The frame in flight finishes (the subscription ends after it); the outputs are closed and complete.
                        ending = $"interrupted at frame {frames}";
                        exitCode = Interrupted;
                        break;
                    }
            }
            if (failure is not null)
            {
                ending = failure.Message;
                exitCode = 1;
                log.LogError("Replay stopped: {Message}", failure.Message);
            }
            else if (pipeline.Health.DamagedInput > 0)
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
    private static (long Frames, double Fps) Recording(string input)
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

    /// <summary>
    /// Masks against labels named by frame index, with dannet-train eval's confusion matrix: the mask (model size) is scaled to the
    /// label by nearest neighbour, as eval does for an exported model. Frames without a label are not scored.
    /// </summary>
    private sealed class Scoring(string dir, bool trainIds)
    {
        private readonly ConfusionMatrix _total = new();
        public int Scored { get; private set; }

        public double? Score(long index, ReadOnlySpan<byte> mask, int width, int height)
        {
            string? path = new[] { $"{index:D6}.png", $"{index:D6}_gt_labelIds.png", $"{index:D6}_labelIds.png", $"{index}.png" }
                .Select(n => Path.Combine(dir, n)).FirstOrDefault(File.Exists);
            if (path is null) return null;
            using var read = ImageFiles.ReadLabel(path);
            using var label = trainIds ? read.Clone() : LabelMapping.ToTrainIds(read, path);
            using var small = new Mat(height, width, MatType.CV_8UC1);
            unsafe { mask.CopyTo(new Span<byte>((void*)small.DataPointer, mask.Length)); }
            using var scaled = small.Resize(label.Size(), 0, 0, InterpolationFlags.Nearest);
            var truth = new byte[label.Rows * label.Cols];
            var predicted = new byte[truth.Length];
            System.Runtime.InteropServices.Marshal.Copy(label.Data, truth, 0, truth.Length);
            System.Runtime.InteropServices.Marshal.Copy(scaled.Data, predicted, 0, predicted.Length);
            var frame = new ConfusionMatrix();
            frame.Add(truth, predicted);
            _total.Add(truth, predicted);
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
    private sealed class Outputs(ReplayOptions options, ModelInfo info, ILogger log, double fps) : IDisposable
    {
        private VideoWriter? _video;
        private string? _videoTemp;
        private long _videoFrames;
        private Size _videoSize;
        private StreamWriter? _report;
        private string? _reportTemp;
        private readonly Mat _colour = new(), _maskMat = new(), _big = new(), _blend = new();

        public void Write(long index, Mat frame, ReadOnlySpan<byte> mask, in FrameTimings t, ModelInfo model, double? miou, double[] frameShares)
        {
            if (options.MasksDir is { } dir)
            {
                _maskMat.Create(model.Height, model.Width, MatType.CV_8UC1);
                unsafe { mask.CopyTo(new Span<byte>((void*)_maskMat.DataPointer, mask.Length)); }
                Directory.CreateDirectory(dir);
                WritePng(Path.Combine(dir, $"{index:D6}.png"), _maskMat);
                if (options.Colour)
                {
                    Colourise(mask, _colour);
                    WritePng(Path.Combine(dir, $"{index:D6}_colour.png"), _colour);
                }
            }
            if (options.Overlay is { } overlay) WriteOverlay(overlay, index, frame, mask, t);
            if (options.Report is { } report)
            {
                _report ??= OpenReport(report);
                var shares = new JsonObject();
                foreach (int c in Enumerable.Range(0, frameShares.Length).Where(c => frameShares[c] > 0).OrderByDescending(c => frameShares[c]))
                    shares[model.Classes[c]] = Math.Round(frameShares[c], 5);
                var line = new JsonObject
                {
                    ["frame"] = index, ["source_ms"] = double.IsNaN(t.SourceMs) ? null : Math.Round(t.SourceMs, 3), ["capture_ns"] = t.CaptureNs,
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

        private void WriteOverlay(string path, long index, Mat frame, ReadOnlySpan<byte> mask, in FrameTimings t)
        {
            Colourise(mask, _colour);
            Cv2.Resize(_colour, _big, frame.Size(), 0, 0, InterpolationFlags.Nearest);
            if (options.SideBySide) Cv2.HConcat([frame, _big], _blend);
            else Cv2.AddWeighted(frame, 1 - options.Alpha, _big, options.Alpha, 0, _blend);
            Legend(_blend, index, t);
            if (_video is null)
            {
                _videoTemp = AtomicFile.CreateTemp(path);
                _videoSize = _blend.Size();
                _video = new VideoWriter(_videoTemp, FourCC.FromString(OverlayCodec), fps, _videoSize);
                if (!_video.IsOpened()) throw new IOException($"--overlay '{path}': OpenCV cannot write {OverlayCodec} video there.");
                log.LogInformation("Overlay video {Path}: {Codec}, {Width}x{Height} at {Fps:F1} fps", path, OverlayCodec, _blend.Width, _blend.Height, fps);
            }
            // A folder of images of several sizes: every frame goes into the video at its first frame's size (OpenCV drops others silently).
            if (_blend.Size() != _videoSize) Cv2.Resize(_blend, _blend, _videoSize, 0, 0, InterpolationFlags.Area);
            _video.Write(_blend);
            _videoFrames++;
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
            if (_video is not null && options.Overlay is { } overlay)
            {
                _video.Release();
                _video.Dispose();
                _video = null;
                long written;
                using (var check = new VideoCapture(_videoTemp!)) written = check.IsOpened() ? (long)check.Get(VideoCaptureProperties.FrameCount) : -1;
                if (written != _videoFrames)
                    throw new IOException($"--overlay '{overlay}': the video holds {written} of the {_videoFrames} frames written (is the disk full?); not kept.");
                File.Move(_videoTemp!, Path.GetFullPath(overlay), overwrite: true);
                _videoTemp = null;
            }
        }

        public void Dispose()
        {
            _video?.Release();
            _video?.Dispose();
            try
            {
                _report?.Dispose();
            }
            catch (IOException)
            {
                // Closing flushes; on a full disk that fails too. The file is incomplete and goes below.
            }
            // Whatever was not completed goes: an output is complete or absent.
            foreach (var temp in new[] { _videoTemp, _reportTemp }) if (temp is not null) File.Delete(temp);
            foreach (var m in new[] { _colour, _maskMat, _big, _blend }) m.Dispose();
        }
    }
}
