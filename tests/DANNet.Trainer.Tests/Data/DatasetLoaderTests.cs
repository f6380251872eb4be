using DANNet.Model.Scoring;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;
using DANNet.Trainer.Data.SynthNight;
using DANNet.Trainer.Tests.Data.SynthNight;
using OpenCvSharp;

namespace DANNet.Trainer.Tests.Data;

/// <summary>The Cityscapes and Dark Zurich loaders on a generated set in the real layouts, and on damaged copies of it.</summary>
[Collection(TinySynthNightCollection.Name)]
public sealed class DatasetLoaderTests(TinySynthNightFixture data)
{
    [Fact]
    public void Cityscapes_layout_loads_images_with_trainIds_of_the_same_size()
    {
        var train = new CityscapesDataset(data.Cityscapes, "train");
        Assert.Equal(16, train.Samples.Count);
        Assert.Equal(4, new CityscapesDataset(data.Cityscapes, "val").Samples.Count);
        Assert.All(train.Samples, s => Assert.EndsWith("_000019", s.Name));
        using var first = train.Samples[0].Load();
        Assert.Equal(new Size(256, 128), first.Image.Size());
        Assert.Equal(MatType.CV_8UC3, first.Image.Type());
        Assert.Equal(first.Image.Size(), first.TrainIds.Size());
        // The loader's labelIds→trainIds mapping agrees with the generator's own trainId files.
        string trainIdFile = train.Samples[0].LabelPath.Replace("_gtFine_labelIds.png", "_gtFine_labelTrainIds.png");
        using var stored = Cv2.ImRead(trainIdFile, ImreadModes.Unchanged);
        Assert.Equal(0, Cv2.Norm(stored, first.TrainIds, NormTypes.INF));
    }

    [Fact]
    public void Dark_Zurich_layout_loads_pairs_and_labelled_night_splits()
    {
        var pairs = DarkZurichDataset.TrainPairs(data.DarkZurich);
        Assert.Equal(16, pairs.Pairs.Count);
        Assert.All(pairs.Pairs, p =>
        {
            Assert.Matches(@"rgb_anon/train/night/GOPR\d{4}/GOPR\d{4}_frame_\d{6}_rgb_anon\.png$", p.NightPath);
            Assert.Matches(@"rgb_anon/train/day/GOPR\d{4}/GOPR\d{4}_frame_\d{6}_rgb_anon\.png$", p.DayPath);
        });
        foreach (var split in new[] { "val", "test" })
        {
            var set = DarkZurichDataset.LabelledNight(data.DarkZurich, split);
            Assert.Equal(4, set.Samples.Count);
            using var img = set.Samples[^1].Load();
            Assert.Equal(new Size(256, 144), img.TrainIds.Size());
        }
    }

    [Fact]
    public void Val_and_test_lists_select_the_same_images_as_the_folders()
    {
        foreach (var split in new[] { "val", "test" })
        {
            string list = Path.Combine(data.DarkZurich, "lists", $"zurich_{split}.txt");
            var listed = DarkZurichDataset.LabelledNight(data.DarkZurich, split, list);
            var folder = DarkZurichDataset.LabelledNight(data.DarkZurich, split);
            Assert.Equal(folder.Samples.Select(s => (s.ImagePath, s.LabelPath)), listed.Samples.Select(s => (s.ImagePath, s.LabelPath)));
        }
    }

    [Fact]
    public void A_list_entry_without_its_image_names_the_list_line()
    {
        WithCopy(root =>
        {
            string list = Path.Combine(Dz(root), "lists", "zurich_val.txt");
            File.AppendAllText(list, "# a comment\nval/night/GOPR3000/GOPR3000_frame_000099\n");
            var ex = Assert.Throws<DatasetException>(() => DarkZurichDataset.LabelledNight(Dz(root), "val", list));
            Assert.Contains($"{list}:6", ex.Message);
            Assert.Contains("GOPR3000_frame_000099_rgb_anon.png", ex.Message);
        });
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        string missing = Path.Combine(data.Root, "no-such-cityscapes");
        var ex = Assert.Throws<DatasetException>(() => new CityscapesDataset(missing, "train"));
        Assert.Contains(missing, ex.Message);
        var ex2 = Assert.Throws<DatasetException>(() => new CityscapesDataset(data.Cityscapes, "test"));
        Assert.Contains(Path.Combine("leftImg8bit", "test"), ex2.Message);
        var ex3 = Assert.Throws<DatasetException>(() => DarkZurichDataset.LabelledNight(data.Cityscapes, "val"));
        Assert.Contains("rgb_anon", ex3.Message);
    }

    [Fact]
    public void A_label_of_the_wrong_size_is_named_with_both_sizes()
    {
        WithCopy(root =>
        {
            var sample = new CityscapesDataset(Cs(root), "train").Samples[2];
            using (var label = Cv2.ImRead(sample.LabelPath, ImreadModes.Unchanged))
            using (var smaller = label.Resize(new Size(128, 64), 0, 0, InterpolationFlags.Nearest))
                Cv2.ImWrite(sample.LabelPath, smaller);
            var ex = Assert.Throws<DatasetException>(() => sample.Load());
            Assert.Contains(sample.LabelPath, ex.Message);
            Assert.Contains("128x64", ex.Message);
            Assert.Contains("256x128", ex.Message);
        });
    }

    [Fact]
    public void An_unknown_label_id_is_named_with_its_value_and_position()
    {
        WithCopy(root =>
        {
            var sample = DarkZurichDataset.LabelledNight(Dz(root), "val").Samples[1];
            using (var label = Cv2.ImRead(sample.LabelPath, ImreadModes.Unchanged))
            {
                label.Set(5, 7, (byte)77);
                Cv2.ImWrite(sample.LabelPath, label);
            }
            var ex = Assert.Throws<DatasetException>(() => sample.Load());
            Assert.Contains(sample.LabelPath, ex.Message);
            Assert.Contains("labelId 77", ex.Message);
            Assert.Contains("(x=7, y=5)", ex.Message);
        });
    }

    [Fact]
    public void An_unreadable_image_is_named()
    {
        WithCopy(root =>
        {
            var sample = new CityscapesDataset(Cs(root), "val").Samples[0];
            File.WriteAllBytes(sample.ImagePath, File.ReadAllBytes(sample.ImagePath).Take(100).ToArray());
            var ex = Assert.Throws<DatasetException>(() => sample.Load());
            Assert.Contains(sample.ImagePath, ex.Message);
            Assert.Contains("could not be decoded", ex.Message);
        });
    }

    [Fact]
    public void A_colour_image_where_a_label_belongs_is_refused()
    {
        WithCopy(root =>
        {
            var sample = new CityscapesDataset(Cs(root), "train").Samples[0];
            File.Copy(sample.ImagePath, sample.LabelPath, overwrite: true);
            var ex = Assert.Throws<DatasetException>(() => sample.Load());
            Assert.Contains(sample.LabelPath, ex.Message);
            Assert.Contains("single-channel", ex.Message);
        });
    }

    [Fact]
    public void An_image_without_its_label_fails_when_the_set_is_opened()
    {
        WithCopy(root =>
        {
            var sample = new CityscapesDataset(Cs(root), "train").Samples[5];
            File.Delete(sample.LabelPath);
            var ex = Assert.Throws<DatasetException>(() => new CityscapesDataset(Cs(root), "train"));
            Assert.Contains(sample.ImagePath, ex.Message);
            Assert.Contains(sample.LabelPath, ex.Message);
        });
    }

    [Fact]
    public void A_pair_pointing_to_a_missing_file_names_the_csv_line_and_the_file()
    {
        WithCopy(root =>
        {
            string csv = Path.Combine(Dz(root), SynthNightGenerator.PairCsvName);
            var lines = File.ReadAllLines(csv);
            lines[3] = lines[3].Split(',')[0] + ",train/day/GOPR9999/GOPR9999_frame_000001";
            File.WriteAllLines(csv, lines);
            var ex = Assert.Throws<DatasetException>(() => DarkZurichDataset.TrainPairs(Dz(root)));
            Assert.Contains($"{csv}:4", ex.Message);
            Assert.Contains("GOPR9999_frame_000001_rgb_anon.png", ex.Message);
        });
    }

    [Fact]
    public void A_malformed_pair_line_is_named()
    {
        WithCopy(root =>
        {
            string csv = Path.Combine(Dz(root), SynthNightGenerator.PairCsvName);
            File.AppendAllText(csv, "train/night/GOPR1000/GOPR1000_frame_000010\n");
            var ex = Assert.Throws<DatasetException>(() => DarkZurichDataset.TrainPairs(Dz(root)));
            Assert.Contains($"{csv}:17", ex.Message);
            Assert.Contains("night_path,day_path", ex.Message);
        });
    }

    [Fact]
    public void Class_counts_agree_with_a_hand_made_label()
    {
        string dir = Path.Combine(Path.GetTempPath(), "dannet-tests", "counts-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using var label = new Mat(4, 5, MatType.CV_8UC1, Scalar.All(7)); // road
            label.Set(0, 0, (byte)26); label.Set(0, 1, (byte)26);          // 2 car
            label.Set(1, 0, (byte)33);                                      // 1 bicycle
            label.Set(3, 4, (byte)1); label.Set(3, 3, (byte)255);            // ego vehicle and ignore → 255
            string path = Path.Combine(dir, "x_gtFine_labelIds.png");
            Cv2.ImWrite(path, label);
            var counts = ClassPixelCounter.Count([path, path], LabelFormat.CityscapesLabelIds);
            Assert.Equal(2 * 15, counts.Counts[0]);
            Assert.Equal(2 * 2, counts.Counts[13]);
            Assert.Equal(2 * 1, counts.Counts[18]);
            Assert.Equal(2 * 2, counts.Ignored);
            Assert.Equal(2 * 18, counts.Labelled);
            Assert.Equal(15.0 / 18, counts.Fraction(0), 12);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void LabelIds_map_to_trainIds_as_in_the_Cityscapes_table()
    {
        using var label = new Mat(1, 36, MatType.CV_8UC1);
        for (int i = 0; i < 34; i++) label.Set(0, i, (byte)i);
        label.Set(0, 34, (byte)255);
        label.Set(0, 35, (byte)7);
        using var trainIds = LabelMapping.ToTrainIds(label, "row");
        var expected = Enumerable.Range(0, 34).Select(i => CityscapesClasses.All.FirstOrDefault(c => c.LabelId == i)?.TrainId ?? 255).ToList();
        for (int i = 0; i < 34; i++) Assert.Equal(expected[i], trainIds.At<byte>(0, i));
        Assert.Equal(255, trainIds.At<byte>(0, 34));
        Assert.Equal(0, trainIds.At<byte>(0, 35));
        Assert.Equal(19, expected.Count(v => v != 255));
    }

    private static string Cs(string root) => Path.Combine(root, SynthNightGenerator.CityscapesFolder);
    private static string Dz(string root) => Path.Combine(root, SynthNightGenerator.DarkZurichFolder);

    private void WithCopy(Action<string> test)
    {
        string root = data.CopyTo("damaged");
        try { test(root); }
        finally { Directory.Delete(root, true); }
    }
}
