using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DANNet.Edge.Configuration;
using DANNet.Edge.Contracts;
using DANNet.Edge.Pipeline;
using DANNet.Edge.Replay;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using DANNet.Model;
using DANNet.Model.IO;
using DANNet.Model.Scoring;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace DANNet.Edge.Validation;

/// <summary>Pass/fail thresholds of a validation (each optional).</summary>
public sealed record ValidationGates(double? MinAgreement = null, double? MaxLatencyRatio = null, double? MinMiou = null)
{
    public bool NeedBaseline => MinAgreement is not null || MaxLatencyRatio is not null;

    public void Check()
    {
        if (MinAgreement is { } a && !(a is >= 0 and <= 1)) throw new ArgumentException($"--min-agreement {a}: give a fraction of pixels, 0..1 (e.g. 0.95).");
        if (MaxLatencyRatio is { } r && !(r > 0)) throw new ArgumentException($"--max-latency-ratio {r}: give a positive ratio (e.g. 1.2 = at most 20 % slower).");
        if (MinMiou is { } m && !(m is >= 0 and <= 1)) throw new ArgumentException($"--min-miou {m}: give a fraction, 0..1 (e.g. 0.40).");
    }
}

/// <summary>What <c>dannet-edge validate</c> is asked to do.</summary>
public sealed record ValidationOptions(string Drives, string ModelPath, string Out)
{
    public string? BaselinePath { get; init; }
    public Shard Shard { get; init; } = Shard.Whole;
    public ModelOptions Model { get; init; } = new() { Providers = ["cpu"] };
    public int WorstFrames { get; init; } = 8;
    public bool Resume { get; init; }
    public ValidationGates Gates { get; init; } = new();
}

/// <summary>How a validation (or a merge) ended: the report folder, its JSON, and the exit code.</summary>
public sealed record ValidationOutcome(string Folder, JsonObject Report, int ExitCode)
{
    /// <summary>Every gate passed and every drive was read.</summary>
    public const int Passed = 0;

    /// <summary>A drive could not be read to its end (the report says which).</summary>
    public const int DriveFailed = 1;

    /// <summary>A gate failed.</summary>
    public const int GateFailed = 4;

    /// <summary>Stopped by SIGINT/SIGTERM; the drives done are reported, <c>--resume</c> continues.</summary>
    public const int Interrupted = 130;
}

/// <summary>
/// Fleet validation: every drive of a list (or of one shard of it) played through the daemon's own pipeline (<see cref="FramePipeline"/>,
/// every frame in order) with the new model, the baseline model riding along on the same decoded frames through its own
/// <see cref="FrameStages"/>. Per drive it keeps what <see cref="DriveResult"/> lists and writes it when the drive is done; then
/// <see cref="ValidationReport"/> turns the drives into the report. Output: <c>OUT/</c> for a whole run, <c>OUT/shard-i-of-N/</c> for a shard.
/// </summary>
public sealed class FleetValidator(ValidationOptions options, ILogger log)
{
    public const string DrivesFolder = "drives", WorstFolder = "worst", RunFile = "run.json";

    public ValidationOutcome Run(IProgress<ValidationProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Gates.Check();
        if (options.WorstFrames is < 0 or > 1000) throw new ArgumentException($"--worst {options.WorstFrames}: give 0..1000 frames.");
        if (options.Gates.NeedBaseline && options.BaselinePath is null)
            throw new ArgumentException("--min-agreement and --max-latency-ratio compare with the model the cars run now: give it as --baseline.");
        var all = DriveList.Read(options.Drives);
        var mine = options.Shard.Take(all);
        string folder = options.Shard.IsWhole ? options.Out : Path.Combine(options.Out, options.Shard.Folder);
        using var model = Open(options.ModelPath, "--model");
        using var baseline = options.BaselinePath is { } b ? Open(b, "--baseline") : null;
        if (baseline is not null && !baseline.Info.Classes.SequenceEqual(model.Info.Classes))
            throw new ArgumentException($"--baseline '{options.BaselinePath}' has classes ({string.Join(", ", baseline.Info.Classes)}) other than --model's " +
                $"({string.Join(", ", model.Info.Classes)}): their masks cannot be compared.");
        var run = RunInfo(all, model.Info, baseline?.Info);
        string runPath = Path.Combine(folder, RunFile);
        // Whether the results already in the folder are of these model files: read before this run's description replaces the earlier one.
        bool sameModels = options.Resume && EarlierModels(runPath) == run["models"]!.ToJsonString();
        Directory.CreateDirectory(Path.Combine(folder, DrivesFolder));
        Directory.CreateDirectory(Path.Combine(folder, WorstFolder));
        AtomicFile.WriteAllText(runPath, run.ToJsonString(ValidationReport.Indented));
        log.LogInformation("Validating {Count} of {All} drives (shard {Shard}) into {Folder}", mine.Count, all.Count, options.Shard, folder);

        using var modelRing = TemporaryRing.For(model.Info);
        using var baselineRing = baseline is null ? null : TemporaryRing.For(baseline.Info);
        using var baselineStages = baseline is null ? null : new FrameStages(baseline, baselineRing!.Writer, options.Model.Resize);
        var results = new List<DriveResult>();
        bool interrupted = false;
        for (int k = 0; k < mine.Count && !interrupted; k++)
        {
            var drive = mine[k];
            string resultPath = Path.Combine(folder, DrivesFolder, drive.Id + ".json");
            if (sameModels && File.Exists(resultPath) && Kept(resultPath, drive) is { } kept)
            {
                log.LogInformation("Drive {Drive}: kept from an earlier run ({Frames} frames)", drive.Id, kept.Frames);
                results.Add(kept);
                continue;
            }
            var result = ValidateDrive(drive, k, mine.Count, folder, model, modelRing.Writer, baselineStages, baseline?.Info, progress, cancel, out interrupted);
            if (interrupted) break; // an unfinished drive is not kept: --resume plays it again
            result.Write(resultPath);
            results.Add(result);
        }
        var report = ValidationReport.Write(folder, run, results, options.Gates, complete: !interrupted);
        int code = interrupted ? ValidationOutcome.Interrupted : ValidationReport.ExitCode(report);
        return new ValidationOutcome(folder, report, code);
    }

    private SegmentationSession Open(string path, string option)
    {
        if (!File.Exists(path)) throw new ArgumentException($"{option} '{path}' does not exist.");
        var session = SegmentationSession.Open(path, options.Model, log);
        if (session.Info.Batch != 1)
        {
            session.Dispose();
            throw new ArgumentException($"{option} '{path}' takes {session.Info.Batch} images per run; validation plays one drive frame by frame: " +
                "give the batch-1 export of the same net (dannet-train export without --batch).");
        }
        return session;
    }

    /// <summary>The models (as JSON) of the run that wrote <paramref name="runPath"/> earlier, or null when there is none to read.</summary>
    private static string? EarlierModels(string runPath)
    {
        try
        {
            return File.Exists(runPath) ? JsonNode.Parse(File.ReadAllText(runPath))?["models"]?.ToJsonString() : null;
        }
        catch (Exception ex) when (ex is IOException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>A drive's result from an earlier run of the same models, or null when it is not a complete one of this drive (then it is played again).</summary>
    private static DriveResult? Kept(string path, Drive drive)
    {
        try
        {
            var result = DriveResult.Read(path);
            return result.Input == drive.Input && result.Status == "ok" ? result : null;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private JsonObject RunInfo(IReadOnlyList<Drive> all, ModelInfo model, ModelInfo? baseline)
    {
        var models = new JsonObject { ["new"] = Describe(model) };
        if (baseline is not null) models["baseline"] = Describe(baseline);
        return new JsonObject
        {
            ["format"] = ValidationReport.Format,
            ["models"] = models,
            ["classes"] = new JsonArray([.. model.Classes.Select(c => (JsonNode)c)]),
            ["drives"] = new JsonArray([.. all.Select(d => (JsonNode)d.Id)]),
            ["shard"] = new JsonObject { ["index"] = options.Shard.Index, ["count"] = options.Shard.Count },
            ["worst_frames"] = options.WorstFrames,
            ["providers"] = string.Join(',', options.Model.Providers),
            ["threads"] = options.Model.Threads,
        };
    }

    private static JsonObject Describe(ModelInfo info) => new()
    {
        ["file"] = Path.GetFileName(info.Path),
        ["sha256"] = Sha256(info.Path),
        ["architecture"] = info.Architecture,
        ["size"] = $"{info.Width}x{info.Height}",
        ["precision"] = ModelCard.PrecisionName(info.Card.Precision),
    };

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    private DriveResult ValidateDrive(Drive drive, int number, int count, string folder, SegmentationSession model, MaskRingWriter ring, FrameStages? baselineStages,
        ModelInfo? baselineInfo, IProgress<ValidationProgress>? progress, CancellationToken cancel, out bool interrupted)
    {
        var info = model.Info;
        int classes = info.Classes.Count;
        var labels = drive.Labels is { } l ? new FrameLabels(l, drive.LabelsAreTrainIds) : null;
        var agreement = baselineInfo is null ? null : new ConfusionMatrix(classes);
        var newVsLabels = new ConfusionMatrix(classes);
        var baselineVsLabels = new ConfusionMatrix(classes);
        var result = new DriveResult
        {
            Drive = drive.Id, Input = drive.Input, Labels = drive.Labels,
            NewClassPixels = new long[classes], BaselineClassPixels = baselineInfo is null ? null : new long[classes],
        };
        var worst = new WorstFrames(options.WorstFrames, drive.Id, info, folder);
        var sourceOptions = new SourceOptions { Uri = drive.Input, Loop = false, Realtime = false };
        long total = ReplayRun.Recording(drive.Input).Frames;
        using var source = FrameSourceFactory.Create(sourceOptions);
        using var pipeline = new FramePipeline(source, model, ring, sourceOptions, log, options.Model.Resize, everyFrame: true,
            observer: (CapturedFrame frame, ReadOnlySpan<byte> mask, in FrameTimings t) =>
            {
                result.Frames++;
                result.NewLatencyMs.Add(t.PreprocessMs + t.InferMs + t.PublishMs);
                Count(mask, result.NewClassPixels);
                var label = labels?.Load(frame.Index, frame.Name);
                if (label is not null)
                {
                    result.LabelledFrames++;
                    newVsLabels.Add(label.Score(mask, info.Width, info.Height));
                }
                if (baselineStages is not null)
                {
                    ulong started = MonotonicClock.NowNs;
                    var times = baselineStages.Run(frame.Image, frame.Input, started);
                    result.BaselineLatencyMs.Add((times.Published - started) / 1e6);
                    var baselineMask = baselineStages.Output.Mask(baselineStages.Output.LastSlot);
                    Count(baselineMask, result.BaselineClassPixels!);
                    if (label is not null) baselineVsLabels.Add(label.Score(baselineMask, baselineInfo!.Width, baselineInfo.Height));
                    var scaled = Masks.Scale(baselineMask, baselineInfo!.Width, baselineInfo.Height, info.Width, info.Height);
                    var frameAgreement = new ConfusionMatrix(classes);
                    frameAgreement.Add(scaled, mask);
                    agreement!.Add(frameAgreement);
                    double share = frameAgreement.Agreement();
                    result.FrameAgreement.Add(share);
                    worst.Offer(frame, share, scaled, mask);
                }
                progress?.Report(new ValidationProgress(drive.Id, number, count, result.Frames, total));
            });
        var failure = pipeline.RunToEnd(cancel, out interrupted);
        if (failure is not null)
        {
            result.Status = $"stopped at frame {result.Frames}: {failure.Message}";
            log.LogError("Drive {Drive}: {Status}", drive.Id, result.Status);
        }
        else if (pipeline.Health.DamagedInput > 0) result.Status = $"damaged input skipped {pipeline.Health.DamagedInput} time(s)";
        result.Agreement = agreement?.Counts();
        if (result.LabelledFrames > 0)
        {
            result.NewVsLabels = newVsLabels.Counts();
            if (baselineInfo is not null) result.BaselineVsLabels = baselineVsLabels.Counts();
        }
        result.Worst = interrupted ? [] : worst.Save();
        return result;
    }

    private static void Count(ReadOnlySpan<byte> mask, long[] pixels)
    {
        foreach (byte v in mask)
            if (v < pixels.Length) pixels[v]++;
    }

    /// <summary>
    /// The drive's K frames of lowest agreement, each drawn when it enters the list (the frame's buffer is reused after): baseline |
    /// new | where they differ, at most 640 pixels wide each. Written to <c>worst/&lt;drive&gt;-&lt;frame&gt;.png</c> at the end.
    /// </summary>
    private sealed class WorstFrames(int keep, string drive, ModelInfo info, string folder)
    {
        private readonly List<(WorstFrame Frame, byte[] Png)> _kept = [];
        private readonly byte[] _palette = MaskColours.Table(info.Palette);

        public void Offer(CapturedFrame frame, double agreement, ReadOnlySpan<byte> baseline, ReadOnlySpan<byte> mask)
        {
            if (keep == 0) return;
            var candidate = new WorstFrame(drive, frame.Index, frame.Name, agreement, $"{WorstFolder}/{drive}-{frame.Index:D6}.png");
            if (_kept.Count == keep && WorstFrame.Order.Compare(candidate, _kept[^1].Frame) >= 0) return;
            _kept.Add((candidate, Draw(frame.Image, baseline, mask, agreement)));
            _kept.Sort((a, b) => WorstFrame.Order.Compare(a.Frame, b.Frame));
            if (_kept.Count > keep) _kept.RemoveAt(_kept.Count - 1);
        }

        public List<WorstFrame> Save()
        {
            foreach (var (frame, png) in _kept) AtomicFile.WriteAllBytes(Path.Combine(folder, frame.Image), png);
            return [.. _kept.Select(k => k.Frame)];
        }

        private byte[] Draw(Mat frame, ReadOnlySpan<byte> baseline, ReadOnlySpan<byte> mask, double agreement)
        {
            int width = Math.Min(640, frame.Cols), height = Math.Max(1, (int)Math.Round((double)frame.Rows * width / frame.Cols));
            var size = new Size(width, height);
            using var image = frame.Resize(size, 0, 0, InterpolationFlags.Area);
            using var left = Blend(image, baseline, size);
            using var middle = Blend(image, mask, size);
            using var different = Difference(image, baseline, mask, size);
            Caption(left, "baseline");
            Caption(middle, "new");
            Caption(different, string.Create(CultureInfo.InvariantCulture, $"differ: {100 * (1 - agreement):F1} % of pixels"));
            using var row = new Mat();
            Cv2.HConcat([left, middle, different], row);
            return Cv2.ImEncode(".png", row, out byte[] png) ? png : throw new IOException("OpenCV could not encode a worst-frame picture.");
        }

        private Mat Blend(Mat image, ReadOnlySpan<byte> mask, Size size)
        {
            using var colour = new Mat();
            MaskColours.Paint(mask, info.Height, info.Width, _palette, colour);
            using var big = colour.Resize(size, 0, 0, InterpolationFlags.Nearest);
            var blended = new Mat();
            Cv2.AddWeighted(image, 0.45, big, 0.55, 0, blended);
            return blended;
        }

        private Mat Difference(Mat image, ReadOnlySpan<byte> baseline, ReadOnlySpan<byte> mask, Size size)
        {
            var differs = new byte[mask.Length];
            for (int i = 0; i < mask.Length; i++) differs[i] = baseline[i] != mask[i] ? (byte)255 : (byte)0;
            using var small = Masks.Mat(differs, info.Width, info.Height);
            using var big = small.Resize(size, 0, 0, InterpolationFlags.Nearest);
            var dark = new Mat();
            image.ConvertTo(dark, -1, 0.35);
            dark.SetTo(new Scalar(255, 255, 255), big);
            return dark;
        }

        private static void Caption(Mat image, string text)
        {
            Cv2.Rectangle(image, new Rect(0, 0, image.Cols, 22), Scalar.All(0), -1);
            Cv2.PutText(image, text, new Point(6, 16), HersheyFonts.HersheySimplex, 0.5, Scalar.All(255), 1, LineTypes.AntiAlias);
        }
    }
}

/// <summary>Where a validation is: drive <see cref="Number"/> (0-based) of <see cref="Drives"/>, frame <see cref="Frame"/> of <see cref="Frames"/> (0: unknown).</summary>
public readonly record struct ValidationProgress(string Drive, int Number, int Drives, long Frame, long Frames);
