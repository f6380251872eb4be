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
            foreach (var (lineNumber, line) in ListLines(csv))
            {
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

    /// <summary>
    /// The labelled night images of <paramref name="split"/> (val or test): every image under
    /// <c>rgb_anon/&lt;split&gt;/night</c>, or only those in <paramref name="listPath"/> (one
    /// <c>&lt;split&gt;/night/&lt;seq&gt;/&lt;stem&gt;</c> per line, relative to <c>rgb_anon/</c>, no suffix, as in
    /// the reference implementation's <c>zurich_val.txt</c>).
    /// </summary>
    public static LabelledSet LabelledNight(string root, string split, string? listPath = null)
    {
        DatasetPaths.RequireDirectory(root, "Dark Zurich root", "a folder holding rgb_anon/ and gt/");
        string images = DatasetPaths.RequireDirectory(Path.Combine(root, "rgb_anon", split, "night"), "Dark Zurich image", $"rgb_anon/{split}/night/<seq>/*{ImageSuffix}");
        string labels = DatasetPaths.RequireDirectory(Path.Combine(root, "gt", split, "night"), "Dark Zurich label", $"gt/{split}/night/<seq>/*{LabelSuffix}");
        if (listPath is null)
            return new LabelledSet(root, split, DatasetPaths.LabelledImages(images, ImageSuffix, labels, LabelSuffix, "Night image", "seq"));

        if (!File.Exists(listPath)) throw new DatasetException($"Image list '{listPath}' does not exist.");
        var samples = new List<LabelledSample>();
        foreach (var (lineNumber, entry) in ListLines(listPath))
        {
            string image = Resolve(Path.Combine(root, "rgb_anon"), entry);
            string label = Path.Combine(root, "gt", StripSuffix(entry).Replace('/', Path.DirectorySeparatorChar) + LabelSuffix);
            if (!File.Exists(image)) throw new DatasetException($"{listPath}:{lineNumber}: the image '{image}' does not exist.");
            if (!File.Exists(label)) throw new DatasetException($"{listPath}:{lineNumber}: the label '{label}' of '{image}' does not exist.");
            samples.Add(new LabelledSample(Path.GetFileName(StripSuffix(entry)), image, label));
        }
        if (samples.Count == 0) throw new DatasetException($"Image list '{listPath}' holds no entries.");
        return new LabelledSet(root, split, samples);
    }

    /// <summary>Non-empty, non-comment lines of a list or CSV file, trimmed, with 1-based line numbers.</summary>
    private static IEnumerable<(int Line, string Text)> ListLines(string path)
    {
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length > 0 && !line.StartsWith('#')) yield return (lineNumber, line);
        }
    }

    private static string StripSuffix(string relative) =>
        relative.EndsWith(ImageSuffix, StringComparison.Ordinal) ? relative[..^ImageSuffix.Length] : relative;

    private static string Resolve(string imagesRoot, string relative) =>
        Path.Combine(imagesRoot, StripSuffix(relative).Replace('/', Path.DirectorySeparatorChar) + ImageSuffix);
}

/// <summary>A list of labelled images of one split.</summary>
public sealed record LabelledSet(string Root, string Split, IReadOnlyList<LabelledSample> Samples);
