using DANNet.Model.IO;
using DANNet.Model.Scoring;
using System.Text.Json;
using DANNet.Trainer.IO;
using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>Progress of a generation run: which stage, how many items of it are done.</summary>
public readonly record struct SynthProgress(string Stage, int Done, int Total);

/// <summary>
/// Writes a SynthNight data set: a labelled day source set in the Cityscapes layout, a target set
/// in the Dark Zurich layout (day/night pairs listed in a pair CSV, labelled night val and test),
/// a night drive video and preview pictures. Files are written atomically; the manifest
/// <c>synthnight.json</c> is written last and marks a complete set.
/// </summary>
public sealed class SynthNightGenerator
{
    /// <summary>Bumped whenever the same seed would produce different bytes.</summary>
    public const int GeneratorVersion = 1;

    public const string CityscapesFolder = "cityscapes";
    public const string DarkZurichFolder = "dark_zurich";
    public const string PairCsvName = "zurich_dn_pair_train.csv";
    public const string VideoPath = "video/night_drive.avi";
    public const string ManifestName = "synthnight.json";

    private static readonly string[] TrainCities = ["altbruck", "bergheim", "dornfeld", "eichwald", "felsing", "grauhafen"];
    private static readonly string[] ValCities = ["lindental", "moorbach"];

    private readonly SynthNightRenderer _renderer;
    private readonly SynthScaleSpec _spec;
    private readonly ulong _seed;

    public SynthNightGenerator(SynthScale scale, ulong seed)
    {
        _spec = SynthScaleSpec.For(scale);
        _seed = seed;
        _renderer = new SynthNightRenderer(seed, _spec);
    }

    /// <summary>Worker threads; OpenCV's own threading is switched off while generating to avoid oversubscription.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Number of preview sheets of each kind.</summary>
    public int PreviewCount { get; init; } = 4;

    public void Generate(string outDir, IProgress<SynthProgress>? progress = null, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(outDir);
        int previousThreads = Cv2.GetNumThreads();
        Cv2.SetNumThreads(1);
        try
        {
            string cs = Path.Combine(outDir, CityscapesFolder), dz = Path.Combine(outDir, DarkZurichFolder);
            Run("source train (Cityscapes layout)", _spec.SourceTrain, i => WriteSource(cs, "train", 0, i), progress, cancel);
            Run("source val (Cityscapes layout)", _spec.SourceVal, i => WriteSource(cs, "val", 1, i), progress, cancel);
            var pairLines = new string[_spec.Pairs];
            Run("day/night pairs (Dark Zurich layout)", _spec.Pairs, i => pairLines[i] = WritePair(dz, i / _spec.FramesPerSequence, i % _spec.FramesPerSequence), progress, cancel);
            WritePairCsvs(dz, pairLines);
            var valStems = new string[_spec.ValImages];
            var testStems = new string[_spec.TestImages];
            Run("night val (labelled)", _spec.ValImages, i => valStems[i] = WriteEval(dz, "val", 0, i), progress, cancel);
            Run("night test (labelled)", _spec.TestImages, i => testStems[i] = WriteEval(dz, "test", 1, i), progress, cancel);
            AtomicFile.WriteAllText(Path.Combine(dz, "lists", "zurich_val.txt"), string.Join('\n', valStems) + "\n");
            AtomicFile.WriteAllText(Path.Combine(dz, "lists", "zurich_test.txt"), string.Join('\n', testStems) + "\n");
            WriteVideo(Path.Combine(outDir, VideoPath), progress, cancel);
            WritePreviews(Path.Combine(outDir, "preview"), progress);
            WriteManifest(outDir);
        }
        finally
        {
            Cv2.SetNumThreads(previousThreads);
        }
    }

    private void Run(string stage, int count, Action<int> job, IProgress<SynthProgress>? progress, CancellationToken cancel)
    {
        int done = 0;
        progress?.Report(new(stage, 0, count));
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancel }, i =>
        {
            job(i);
            progress?.Report(new(stage, Interlocked.Increment(ref done), count));
        });
    }

    /// <summary>Cityscapes-style stem of source image <paramref name="index"/>: <c>&lt;city&gt;_&lt;seq&gt;_&lt;frame&gt;</c>.</summary>
    public static (string City, string Stem) SourceName(string split, int index)
    {
        var cities = split == "train" ? TrainCities : ValCities;
        string city = cities[index % cities.Length];
        return (city, $"{city}_{index / cities.Length:D6}_000019");
    }

    private void WriteSource(string root, string split, int splitId, int index)
    {
        var (city, stem) = SourceName(split, index);
        using var frame = _renderer.Source(splitId, index);
        using var trainIds = LabelMapping.ToTrainIds(frame.LabelIds, stem);
        ImageFiles.WritePng(Path.Combine(root, "leftImg8bit", split, city, stem + "_leftImg8bit.png"), frame.Image);
        ImageFiles.WritePng(Path.Combine(root, "gtFine", split, city, stem + "_gtFine_labelIds.png"), frame.LabelIds);
        ImageFiles.WritePng(Path.Combine(root, "gtFine", split, city, stem + "_gtFine_labelTrainIds.png"), trainIds);
    }

    /// <summary>Dark Zurich-style relative path (no suffix) of a target frame, e.g. <c>train/night/GOPR1000/GOPR1000_frame_000010</c>.</summary>
    public static string TargetStem(string split, string time, int sequenceNumber, int frameNumber)
    {
        string seq = $"GOPR{sequenceNumber:D4}";
        return $"{split}/{time}/{seq}/{seq}_frame_{frameNumber:D6}";
    }

    private string WritePair(string root, int sequence, int frame)
    {
        string night = TargetStem("train", "night", 1000 + sequence, 10 * (frame + 1));
        string day = TargetStem("train", "day", 2000 + sequence, 10 * (frame + 1) + 3);
        var (n, d) = _renderer.Pair(sequence, frame);
        using (n)
        using (d)
        {
            ImageFiles.WritePng(Path.Combine(root, "rgb_anon", night + "_rgb_anon.png"), n.Image);
            ImageFiles.WritePng(Path.Combine(root, "rgb_anon", day + "_rgb_anon.png"), d.Image);
            // Night train labels do not exist in Dark Zurich; SynthNight has them, for the oracle (upper bound) only.
            ImageFiles.WritePng(Path.Combine(root, "gt", night + "_gt_labelIds.png"), n.LabelIds);
        }
        return $"{night},{day}";
    }

    private void WritePairCsvs(string root, string[] lines)
    {
        AtomicFile.WriteAllText(Path.Combine(root, PairCsvName), string.Join('\n', lines) + "\n");
        foreach (var group in lines.GroupBy(l => l.Split('/')[2]))
            AtomicFile.WriteAllText(Path.Combine(root, "corresp", "train", "night", group.Key, group.Key + "_ref_day.csv"), string.Join('\n', group) + "\n");
    }

    private string WriteEval(string root, string split, int splitId, int index)
    {
        int sequence = (split == "val" ? 3000 : 3100) + index / 25;
        string stem = TargetStem(split, "night", sequence, index);
        using var frame = _renderer.EvalNight(splitId, index);
        ImageFiles.WritePng(Path.Combine(root, "rgb_anon", stem + "_rgb_anon.png"), frame.Image);
        ImageFiles.WritePng(Path.Combine(root, "gt", stem + "_gt_labelIds.png"), frame.LabelIds);
        return stem;
    }

    private void WriteVideo(string path, IProgress<SynthProgress>? progress, CancellationToken cancel)
    {
        const string stage = "night drive video (MJPG)";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + ".tmp.avi";
        var street = _renderer.VideoStreet();
        using (var writer = new VideoWriter(temp, FourCC.MJPG, _spec.VideoFps, _spec.VideoSize))
        {
            if (!writer.IsOpened())
                throw new IOException($"OpenCV could not open a MJPG video writer for '{temp}'. This OpenCV build lacks its FFmpeg/MJPG backend.");
            int batch = Math.Max(1, Parallelism * 2);
            var frames = new Mat[batch];
            for (int start = 0; start < _spec.VideoFrames; start += batch)
            {
                int count = Math.Min(batch, _spec.VideoFrames - start);
                Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancel },
                    i => frames[i] = _renderer.VideoFrame(street, start + i));
                for (int i = 0; i < count; i++)
                {
                    writer.Write(frames[i]);
                    frames[i].Dispose();
                }
                progress?.Report(new(stage, start + count, _spec.VideoFrames));
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Writes only the preview pictures (pairs, source frames, night model, a video frame) into <paramref name="dir"/>.</summary>
    public void WritePreviews(string dir, IProgress<SynthProgress>? progress = null)
    {
        int pairs = Math.Min(PreviewCount, _spec.Pairs), sources = Math.Min(PreviewCount, _spec.SourceTrain);
        for (int i = 0; i < pairs; i++)
        {
            int index = i * Math.Max(1, _spec.Pairs / pairs);
            var (n, d) = _renderer.Pair(index / _spec.FramesPerSequence, index % _spec.FramesPerSequence);
            using (n)
            using (d)
            using (var sheet = PreviewSheets.Pair(d, n))
                ImageFiles.WritePng(Path.Combine(dir, $"pair_{i:D2}.png"), sheet);
        }
        for (int i = 0; i < sources; i++)
        {
            using var s = _renderer.Source(0, i);
            using var sheet = PreviewSheets.Source(s);
            ImageFiles.WritePng(Path.Combine(dir, $"source_{i:D2}.png"), sheet);
        }
        var stages = new List<(string, Mat)>();
        using (var final = _renderer.NightStages(0, 0, (name, img) => stages.Add((name, PreviewSheets.ToDisplay(img)))))
        using (var sheet = PreviewSheets.NightModel(stages, final.Image))
            ImageFiles.WritePng(Path.Combine(dir, "night_model.png"), sheet);
        foreach (var (_, m) in stages) m.Dispose();
        var street = _renderer.VideoStreet();
        using (var videoFrame = _renderer.VideoFrame(street, _spec.VideoFrames / 2))
            ImageFiles.WritePng(Path.Combine(dir, "video_frame.png"), videoFrame);
        progress?.Report(new("previews", 1, 1));
    }

    private void WriteManifest(string outDir)
    {
        var manifest = new
        {
            generator = "SynthNight",
            generatorVersion = GeneratorVersion,
            seed = _seed,
            scale = _spec.Scale.ToString().ToLowerInvariant(),
            source = new { layout = "cityscapes", root = CityscapesFolder, width = _spec.SourceSize.Width, height = _spec.SourceSize.Height, train = _spec.SourceTrain, val = _spec.SourceVal },
            target = new
            {
                layout = "dark_zurich", root = DarkZurichFolder, width = _spec.TargetSize.Width, height = _spec.TargetSize.Height,
                pairs = _spec.Pairs, pairCsv = $"{DarkZurichFolder}/{PairCsvName}", valNight = _spec.ValImages, testNight = _spec.TestImages,
            },
            video = new { path = VideoPath, fourcc = "MJPG", width = _spec.VideoSize.Width, height = _spec.VideoSize.Height, frames = _spec.VideoFrames, fps = _spec.VideoFps },
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, ManifestName), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
