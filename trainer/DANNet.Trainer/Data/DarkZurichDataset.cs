namespace DANNet.Trainer.Data;

/// <summary>A night frame and the day frame of roughly the same place (not pixel-aligned).</summary>
public sealed record DayNightPair(string NightPath, string DayPath);

/// <summary>The unlabelled day/night training pairs of a Dark Zurich-layout set.</summary>
public sealed record DarkZurichPairs(string Root, string CsvDescription, IReadOnlyList<DayNightPair> Pairs);

/// <summary>
/// Loaders for the Dark Zurich layout: <c>rgb_anon/{train/{day,night},val/night,test/night}/&lt;seq&gt;/&lt;seq&gt;_frame_NNNNNN_rgb_anon.png</c>,
/// labels <c>gt/&lt;split&gt;/night/&lt;seq&gt;/..._gt_labelIds.png</c>, and the pair list (<c>night,day</c> per line,
/// paths relative to <c>rgb_anon/</c> without suffix) either as one CSV or as the per-sequence
/// <c>corresp/train/night/&lt;seq&gt;/*_ref_day.csv</c> files.
/// </summary>
public static class DarkZurichDataset
{
    public const string ImageSuffix = "_rgb_anon.png";
    public const string LabelSuffix = "_gt_labelIds.png";
    public const string DefaultPairCsv = "zurich_dn_pair_train.csv";

    /// <summary>
    /// Reads the pair list: <paramref name="csvPath"/> if given, else <c>&lt;root&gt;/zurich_dn_pair_train.csv</c>,
    /// else every <c>corresp/train/night/**/*_ref_day.csv</c>. Every referenced image must exist.
    /// </summary>
    public static DarkZurichPairs TrainPairs(string root, string? csvPath = null)
    {
        DatasetPaths.RequireDirectory(root, "Dark Zurich root", "a folder holding rgb_anon/");
        string images = DatasetPaths.RequireDirectory(Path.Combine(root, "rgb_anon"), "Dark Zurich image", "rgb_anon/train/{day,night}/<seq>/...");
        List<string> csvs;
        if (csvPath is not null)
        {
            if (!File.Exists(csvPath)) throw new DatasetException($"Pair list '{csvPath}' does not exist.");
            csvs = [csvPath];
        }
        else if (File.Exists(Path.Combine(root, DefaultPairCsv)))
            csvs = [Path.Combine(root, DefaultPairCsv)];
        else
        {
            string corresp = Path.Combine(root, "corresp", "train", "night");
            csvs = Directory.Exists(corresp)
                ? Directory.EnumerateFiles(corresp, "*_ref_day.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
                : [];
            if (csvs.Count == 0)
                throw new DatasetException($"No day/night pair list in '{root}': expected '{DefaultPairCsv}' or corresp/train/night/<seq>/*_ref_day.csv (lines 'night,day').");
        }

        var pairs = new List<DayNightPair>();
        foreach (var csv in csvs)
        {
            int lineNumber = 0;
            foreach (var raw in File.ReadLines(csv))
            {
                lineNumber++;
                string line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                var fields = line.Split(',');
                if (fields.Length != 2 || fields[0].Trim().Length == 0 || fields[1].Trim().Length == 0)
                    throw new DatasetException($"{csv}:{lineNumber}: expected 'night_path,day_path' (relative to rgb_anon/, no suffix), got '{line}'.");
                string night = Resolve(images, fields[0].Trim()), day = Resolve(images, fields[1].Trim());
                foreach (var (path, what) in new[] { (night, "night"), (day, "day") })
                    if (!File.Exists(path))
                        throw new DatasetException($"{csv}:{lineNumber}: the {what} image '{path}' does not exist. Fix the pair list or restore the image.");
                pairs.Add(new DayNightPair(night, day));
            }
        }
        if (pairs.Count == 0)
            throw new DatasetException($"The pair list {string.Join(", ", csvs.Select(c => $"'{c}'"))} holds no pairs.");
        return new DarkZurichPairs(root, string.Join(", ", csvs), pairs);
    }

    /// <summary>The labelled night images of <paramref name="split"/> (val or test).</summary>
    public static LabelledSet LabelledNight(string root, string split)
    {
        DatasetPaths.RequireDirectory(root, "Dark Zurich root", "a folder holding rgb_anon/ and gt/");
        string images = DatasetPaths.RequireDirectory(Path.Combine(root, "rgb_anon", split, "night"), "Dark Zurich image", $"rgb_anon/{split}/night/<seq>/*{ImageSuffix}");
        string labels = DatasetPaths.RequireDirectory(Path.Combine(root, "gt", split, "night"), "Dark Zurich label", $"gt/{split}/night/<seq>/*{LabelSuffix}");
        return new LabelledSet(root, split, DatasetPaths.LabelledImages(images, ImageSuffix, labels, LabelSuffix, "Night image", "seq"));
    }

    private static string Resolve(string imagesRoot, string relative)
    {
        if (relative.EndsWith(ImageSuffix, StringComparison.Ordinal)) relative = relative[..^ImageSuffix.Length];
        return Path.Combine(imagesRoot, relative.Replace('/', Path.DirectorySeparatorChar) + ImageSuffix);
    }
}

/// <summary>A list of labelled images of one split.</summary>
public sealed record LabelledSet(string Root, string Split, IReadOnlyList<LabelledSample> Samples);
