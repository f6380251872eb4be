using DANNet.Model.IO;
using System.Security.Cryptography;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;
using DANNet.Trainer.Data.SynthNight;
using DANNet.Trainer.IO;
using OpenCvSharp;

namespace DANNet.Trainer.Tests.Data.SynthNight;

[Collection(TinySynthNightCollection.Name)]
public sealed class SynthNightDatasetTests(TinySynthNightFixture data)
{
    [Fact]
    public void Same_seed_gives_the_same_bytes_and_another_seed_does_not()
    {
        string again = Path.Combine(Path.GetTempPath(), "dannet-tests", "again-" + Guid.NewGuid().ToString("N"));
        string other = Path.Combine(Path.GetTempPath(), "dannet-tests", "other-" + Guid.NewGuid().ToString("N"));
        try
        {
            new SynthNightGenerator(SynthScale.Tiny, TinySynthNightFixture.Seed) { PreviewCount = 1, Parallelism = 1 }.Generate(again);
            var expected = Hashes(data.Root);
            var actual = Hashes(again);
            Assert.True(expected.Count > 60, $"only {expected.Count} files generated");
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (file, hash) in expected)
                Assert.True(hash == actual[file], $"{file} differs between two runs with the same seed");

            new SynthNightGenerator(SynthScale.Tiny, TinySynthNightFixture.Seed + 1) { PreviewCount = 1 }.Generate(other);
            var different = Hashes(other);
            int same = expected.Count(kv => kv.Key.EndsWith(".png") && different[kv.Key] == kv.Value);
            Assert.Equal(0, same);
        }
        finally
        {
            foreach (var d in new[] { again, other }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    private static Dictionary<string, string> Hashes(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void Every_pixel_has_a_drawn_class_or_is_ignored_ego_vehicle()
    {
        byte[] drawn = [.. CityscapesClasses.All.Select(c => c.LabelId), LabelIds.EgoVehicle];
        var labels = Directory.EnumerateFiles(data.Root, "*labelIds.png", SearchOption.AllDirectories).ToList();
        Assert.Equal(16 + 4 + 16 + 4 + 4, labels.Count); // source train, source val, night train (oracle), night val, night test
        foreach (var path in labels)
        {
            using var m = ImageFiles.ReadLabel(path);
            var values = Histogram(m).Select((n, v) => (n, v)).Where(t => t.n > 0).Select(t => (byte)t.v).ToList();
            var unexpected = values.Except(drawn).ToList();
            Assert.True(unexpected.Count == 0, $"{path} has labelIds {string.Join(",", unexpected)} that SynthNight never draws");
        }
    }

    [Fact]
    public void Ignored_pixels_are_only_the_ego_hood_of_the_source_set()
    {
        foreach (var split in new[] { "train", "val" })
            foreach (var sample in new CityscapesDataset(data.Cityscapes, split).Samples)
            {
                using var img = sample.Load();
                double ignored = Histogram(img.TrainIds)[255] / (double)img.TrainIds.Total();
                Assert.InRange(ignored, 0.01, 0.15);
                Assert.Equal(255, img.TrainIds.At<byte>(img.TrainIds.Rows - 1, img.TrainIds.Cols / 2));
            }
        foreach (var sample in DarkZurichDataset.LabelledNight(data.DarkZurich, "val").Samples)
        {
            using var img = sample.Load();
            Assert.Equal(0, Histogram(img.TrainIds)[255]);
        }
    }

    [Fact]
    public void Every_class_is_present_in_the_tiny_source_train_set()
    {
        var counts = ClassPixelCounter.Count(new CityscapesDataset(data.Cityscapes, "train").Samples.Select(s => s.LabelPath), LabelFormat.CityscapesLabelIds);
        var missing = Enumerable.Range(0, CityscapesClasses.Count).Where(c => counts.Counts[c] == 0).Select(c => CityscapesClasses.All[c].Name).ToList();
        Assert.True(missing.Count == 0, "missing classes: " + string.Join(", ", missing));
        // Each evaluated class covers a real area somewhere, not a stray pixel.
        Assert.All(counts.Counts, n => Assert.True(n > 50, $"a class has only {n} pixels"));
    }

    [Fact]
    public void Night_is_far_darker_than_day_with_near_black_regions()
    {
        // Measured over tiny seeds 1..8 (128 pairs): night/day mean-luma ratio median 0.19, 90th
        // percentile 0.36, max 0.52 (a lamp-lit intersection). The bounds leave a margin above that.
        var pairs = DarkZurichDataset.TrainPairs(data.DarkZurich).Pairs;
        var ratios = new List<double>();
        foreach (var pair in pairs)
        {
            using var night = ImageFiles.ReadColor(pair.NightPath);
            using var day = ImageFiles.ReadColor(pair.DayPath);
            double nightLuma = MeanLuma(night), dayLuma = MeanLuma(day);
            ratios.Add(nightLuma / dayLuma);
            Assert.True(nightLuma < 0.6 * dayLuma, $"{pair.NightPath}: night mean luma {nightLuma:F1} vs day {dayLuma:F1}");
            Assert.True(DarkFraction(night, 12) > 0.15, $"{pair.NightPath}: too few near-black pixels ({DarkFraction(night, 12):P0})");
            Assert.True(DarkFraction(day, 12) < 0.05, $"{pair.DayPath}: day has {DarkFraction(day, 12):P0} near-black pixels");
        }
        Assert.True(ratios.Average() < 0.35, $"night is on average {ratios.Average():P0} as bright as day");
    }

    [Fact]
    public void Pair_csv_and_per_sequence_corresp_files_list_the_same_pairs()
    {
        var flat = DarkZurichDataset.TrainPairs(data.DarkZurich);
        Assert.Equal(16, flat.Pairs.Count);
        string copy = data.CopyTo("corresp");
        try
        {
            File.Delete(Path.Combine(copy, SynthNightGenerator.DarkZurichFolder, SynthNightGenerator.PairCsvName));
            var perSequence = DarkZurichDataset.TrainPairs(Path.Combine(copy, SynthNightGenerator.DarkZurichFolder));
            Assert.Equal(flat.Pairs.Select(p => Path.GetFileName(p.NightPath)), perSequence.Pairs.Select(p => Path.GetFileName(p.NightPath)));
            Assert.Equal(flat.Pairs.Select(p => Path.GetFileName(p.DayPath)), perSequence.Pairs.Select(p => Path.GetFileName(p.DayPath)));
        }
        finally { Directory.Delete(copy, true); }
    }

    [Fact]
    public void Night_drive_video_decodes_with_the_promised_frames()
    {
        using var capture = new VideoCapture(Path.Combine(data.Root, SynthNightGenerator.VideoPath));
        Assert.True(capture.IsOpened());
        var spec = SynthScaleSpec.For(SynthScale.Tiny);
        int frames = 0;
        using var frame = new Mat();
        double luma = 0;
        while (capture.Read(frame) && !frame.Empty())
        {
            Assert.Equal(spec.VideoSize, frame.Size());
            luma += MeanLuma(frame);
            frames++;
        }
        Assert.Equal(spec.VideoFrames, frames);
        Assert.InRange(luma / frames, 2, 60);
    }

    [Fact]
    public void Previews_and_manifest_are_written()
    {
        foreach (var name in new[] { "pair_00.png", "source_00.png", "night_model.png" })
        {
            using var m = ImageFiles.ReadColor(Path.Combine(data.Root, "preview", name));
            Assert.True(m.Width >= 960, $"{name} is {m.Width} wide");
        }
        string manifest = File.ReadAllText(Path.Combine(data.Root, SynthNightGenerator.ManifestName));
        Assert.Contains("\"scale\": \"tiny\"", manifest);
        Assert.Contains($"\"seed\": {TinySynthNightFixture.Seed}", manifest);
    }

    internal static long[] Histogram(Mat m)
    {
        var h = new long[256];
        m.GetArray(out byte[] bytes);
        foreach (var b in bytes) h[b]++;
        return h;
    }

    internal static double MeanLuma(Mat bgr)
    {
        using var grey = new Mat();
        Cv2.CvtColor(bgr, grey, ColorConversionCodes.BGR2GRAY);
        return Cv2.Mean(grey).Val0;
    }

    private static double DarkFraction(Mat bgr, int threshold)
    {
        using var grey = new Mat();
        Cv2.CvtColor(bgr, grey, ColorConversionCodes.BGR2GRAY);
        using var dark = new Mat();
        Cv2.Threshold(grey, dark, threshold, 255, ThresholdTypes.BinaryInv);
        return Cv2.CountNonZero(dark) / (double)grey.Total();
    }
}
