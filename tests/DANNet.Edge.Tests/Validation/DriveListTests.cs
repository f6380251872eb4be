using DANNet.Edge.Replay;
using DANNet.Edge.Validation;

namespace DANNet.Edge.Tests.Validation;

/// <summary>Which drives a validation plays, in which shard, and the chart scales of its report.</summary>
public sealed class DriveListTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-drives-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Touch(string relative)
    {
        string path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0]);
        return path;
    }

    [Fact]
    public void A_folder_of_drives_holds_videos_and_image_folders_with_labels_beside_them()
    {
        Touch("drives/b-night.mp4");
        Touch("drives/a-dusk.avi");
        Touch("drives/notes.txt");
        Touch("drives/stills/0001.png");
        Touch("drives/stills.labels/0001_gt_labelIds.png");
        Touch("drives/empty/readme.md");
        var drives = DriveList.Read(Path.Combine(_dir, "drives"));
        Assert.Equal(["a-dusk", "b-night", "stills"], drives.Select(d => d.Id));
        Assert.Equal(Path.Combine(_dir, "drives", "stills.labels"), drives[2].Labels);
        Assert.Null(drives[0].Labels);
    }

    [Fact]
    public void A_manifest_names_drives_relative_to_itself_with_labels_and_spaces_in_paths()
    {
        Touch("rec/drive one.avi");
        Touch("rec/two.mp4");
        Directory.CreateDirectory(Path.Combine(_dir, "gt", "two"));
        string manifest = Path.Combine(_dir, "fleet.txt");
        File.WriteAllLines(manifest, ["# night drives", "rec/drive one.avi", "  ", $"{Path.Combine(_dir, "rec", "two.mp4")} labels=gt/two trainids"]);
        var drives = DriveList.Read(manifest);
        Assert.Equal(["drive one", "two"], drives.Select(d => d.Id));
        Assert.Equal(Path.Combine(_dir, "rec", "drive one.avi"), drives[0].Input);
        Assert.Equal((Path.Combine(_dir, "gt", "two"), true), (drives[1].Labels, drives[1].LabelsAreTrainIds));
    }

    [Theory]
    [InlineData("rec/missing.avi", "line 2: '", "does not exist")]
    [InlineData("rec/two.mp4 labels=nowhere", "line 2: labels folder", "does not exist")]
    [InlineData("rec/two.mp4 trainids", "line 2: 'trainids' describes labels", "no labels=FOLDER")]
    public void A_bad_manifest_line_is_named(string line, string where, string what)
    {
        Touch("rec/two.mp4");
        string manifest = Path.Combine(_dir, "fleet.txt");
        File.WriteAllLines(manifest, ["# header", line]);
        var ex = Assert.Throws<ArgumentException>(() => DriveList.Read(manifest));
        Assert.Contains(where, ex.Message);
        Assert.Contains(what, ex.Message);
    }

    [Fact]
    public void Two_drives_of_one_name_and_an_empty_list_are_refused()
    {
        Touch("a/x.avi");
        Touch("b/x.mp4");
        string manifest = Path.Combine(_dir, "fleet.txt");
        File.WriteAllLines(manifest, ["a/x.avi", "b/x.mp4"]);
        Assert.Contains("two drives are named 'x'", Assert.Throws<ArgumentException>(() => DriveList.Read(manifest)).Message);
        Directory.CreateDirectory(Path.Combine(_dir, "nothing"));
        Assert.Contains("names no drive", Assert.Throws<ArgumentException>(() => DriveList.Read(Path.Combine(_dir, "nothing"))).Message);
    }

    [Theory]
    [InlineData(7, 3)]
    [InlineData(2, 5)]
    [InlineData(10, 1)]
    public void Shards_cover_every_drive_once_in_sizes_within_one(int drives, int shards)
    {
        var list = Enumerable.Range(0, drives).Select(i => new Drive($"d{i:D2}", $"/x/d{i}.avi")).ToList();
        var parts = Enumerable.Range(0, shards).Select(i => new Shard(i, shards).Take(list)).ToList();
        Assert.Equal(list.Select(d => d.Id).Order(), parts.SelectMany(p => p.Select(d => d.Id)).Order());
        Assert.InRange(parts.Max(p => p.Count) - parts.Min(p => p.Count), 0, 1);
        // Deterministic: the same list gives the same share.
        Assert.Equal(parts[0], new Shard(0, shards).Take(list));
    }

    [Fact]
    public void A_shard_comes_from_the_option_or_from_an_indexed_jobs_variables()
    {
        Assert.Equal(new Shard(2, 5), Shard.Parse("2/5"));
        foreach (var bad in new[] { "5/5", "-1/3", "1", "a/b", "0/0", "1/3/4" })
            Assert.Throws<ArgumentException>(() => Shard.Parse(bad));
        var env = new Dictionary<string, string?> { [Shard.IndexVariable] = "1", [Shard.CountVariable] = "4" };
        Assert.Equal(new Shard(1, 4), Shard.FromEnvironment(k => env.GetValueOrDefault(k)));
        Assert.Null(Shard.FromEnvironment(_ => null));
        env.Remove(Shard.CountVariable);
        Assert.Contains(Shard.CountVariable, Assert.Throws<ArgumentException>(() => Shard.FromEnvironment(k => env.GetValueOrDefault(k))).Message);
    }

    [Theory]
    [InlineData(0, 100, new[] { 0.0, 20, 40, 60, 80, 100 })]
    [InlineData(0, 7.3, new[] { 0.0, 2, 4, 6 })]
    [InlineData(-3, 3, new[] { -3.0, -2, -1, 0, 1, 2, 3 })]
    [InlineData(0, 0.05, new[] { 0.0, 0.01, 0.02, 0.03, 0.04, 0.05 })]
    public void Chart_ticks_fall_on_round_steps_inside_the_range(double min, double max, double[] expected)
    {
        var ticks = Chart.Ticks(min, max);
        Assert.Equal(expected, ticks.Select(t => Math.Round(t, 9)));
        Assert.All(ticks, t => Assert.InRange(t, min - 1e-9, max + 1e-9));
    }
}
