using System.Globalization;
using DANNet.Model.IO;

namespace DANNet.Edge.Validation;

/// <summary>
/// One recorded drive to validate: a video file or a folder of images, with an optional folder of labels.
/// <see cref="Id"/> names its results (unique in a list: a file name without the extension, or the folder's name).
/// </summary>
public sealed record Drive(string Id, string Input, string? Labels = null, bool LabelsAreTrainIds = false);

/// <summary>
/// The drives of a validation, in one order every shard agrees on (ordinal by id). From a folder: each video file in it
/// (.avi .mp4 .mkv .mov .webm) and each sub-folder holding images is a drive; labels for drive <c>X</c> are in <c>X.labels/</c> beside
/// it if that folder exists. From a manifest (a text file): one drive per line — its path, then optionally <c>labels=PATH</c> and
/// <c>trainids</c>; paths relative to the manifest; blank lines and <c>#</c> comments ignored.
/// </summary>
public static class DriveList
{
    /// <summary>The suffix of a labels folder beside a drive in a drives folder.</summary>
    public const string LabelsSuffix = ".labels";

    public static IReadOnlyList<Drive> Read(string drivesOrManifest)
    {
        IReadOnlyList<Drive> drives;
        if (Directory.Exists(drivesOrManifest)) drives = FromFolder(drivesOrManifest);
        else if (File.Exists(drivesOrManifest)) drives = FromManifest(drivesOrManifest);
        else throw new ArgumentException($"--drives '{drivesOrManifest}' is neither a folder of drives nor a manifest file.");
        if (drives.Count == 0)
            throw new ArgumentException($"--drives '{drivesOrManifest}' names no drive (videos {string.Join(' ', ImageFiles.VideoExtensions)}, or folders of images).");
        foreach (var same in drives.GroupBy(d => d.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new ArgumentException($"--drives '{drivesOrManifest}': two drives are named '{same.Key}' ({string.Join(", ", same.Select(d => $"'{d.Input}'"))}); " +
                "results are kept by name — rename one.");
        return [.. drives.OrderBy(d => d.Id, StringComparer.Ordinal)];
    }

    private static List<Drive> FromFolder(string folder)
    {
        var drives = new List<Drive>();
        foreach (var file in Directory.EnumerateFiles(folder).Where(ImageFiles.IsVideo))
            drives.Add(WithSiblingLabels(Id(file), file));
        foreach (var dir in Directory.EnumerateDirectories(folder))
        {
            if (dir.EndsWith(LabelsSuffix, StringComparison.Ordinal)) continue;
            if (Directory.EnumerateFiles(dir).Any(ImageFiles.IsImage)) drives.Add(WithSiblingLabels(Path.GetFileName(dir), dir));
        }
        return drives;
    }

    private static Drive WithSiblingLabels(string id, string input)
    {
        string labels = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(input))!, id + LabelsSuffix);
        return new Drive(id, input, Directory.Exists(labels) ? labels : null);
    }

    private static List<Drive> FromManifest(string manifest)
    {
        string root = Path.GetDirectoryName(Path.GetFullPath(manifest))!;
        var drives = new List<Drive>();
        int number = 0;
        foreach (var raw in File.ReadLines(manifest))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string where = $"--drives '{manifest}', line {number.ToString(CultureInfo.InvariantCulture)}";
            // Options come last, after the path (which may hold spaces): peel them off the end.
            string? labels = null;
            bool trainIds = false;
            while (true)
            {
                int space = line.LastIndexOf(' ');
                string last = space < 0 ? "" : line[(space + 1)..];
                if (last.StartsWith("labels=", StringComparison.Ordinal) && labels is null) labels = Resolve(root, last["labels=".Length..]);
                else if (last == "trainids") trainIds = true;
                else break;
                line = line[..space].TrimEnd();
            }
            string input = Resolve(root, line);
            if (!File.Exists(input) && !Directory.Exists(input)) throw new ArgumentException($"{where}: '{input}' does not exist.");
            if (labels is not null && !Directory.Exists(labels)) throw new ArgumentException($"{where}: labels folder '{labels}' does not exist.");
            if (trainIds && labels is null) throw new ArgumentException($"{where}: 'trainids' describes labels, but the line gives no labels=FOLDER.");
            drives.Add(new Drive(Id(input), input, labels, trainIds));
        }
        return drives;
    }

    private static string Resolve(string root, string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(root, path));

    private static string Id(string input) => Directory.Exists(input) ? Path.GetFileName(Path.TrimEndingDirectorySeparator(input)) : Path.GetFileNameWithoutExtension(input);
}

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> (0-based, as a Kubernetes Indexed Job numbers its pods): drive <c>k</c> of the
/// ordered list belongs to shard <c>k mod Count</c> — deterministic, every drive in exactly one shard, sizes within one of each other.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public static Shard Whole { get; } = new(0, 1);

    /// <summary>The environment variables an Indexed Job sets.</summary>
    public const string IndexVariable = "JOB_COMPLETION_INDEX", CountVariable = "JOB_COMPLETIONS";

    public bool IsWhole => Count == 1;

    /// <summary>The folder name a shard's results go to inside the output folder.</summary>
    public string Folder => $"shard-{Index}-of-{Count}";

    public IReadOnlyList<Drive> Take(IReadOnlyList<Drive> drives)
    {
        var (index, count) = (Index, Count);
        return [.. drives.Where((_, k) => k % count == index)];
    }

    /// <summary>"i/N" with 0 ≤ i &lt; N ≤ 10000.</summary>
    public static Shard Parse(string text, string option = "--shard")
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new ArgumentException($"{option} '{text}': give the shard as INDEX/COUNT, e.g. 0/3 (indices start at 0).");
        return Checked(i, n, option);
    }

    /// <summary>The shard a Kubernetes Indexed Job gave this pod (<see cref="IndexVariable"/>, <see cref="CountVariable"/>), or null outside one.</summary>
    public static Shard? FromEnvironment(Func<string, string?> variable)
    {
        string? index = variable(IndexVariable), count = variable(CountVariable);
        if (string.IsNullOrEmpty(index)) return null;
        if (string.IsNullOrEmpty(count))
            throw new ArgumentException($"{IndexVariable} is set ({index}) but {CountVariable} is not: set it to the Job's completions (or pass --shard).");
        return Parse($"{index}/{count}", $"{IndexVariable}/{CountVariable}");
    }

    private static Shard Checked(int i, int n, string option)
    {
        if (n < 1 || n > 10000 || i < 0 || i >= n)
            throw new ArgumentException($"{option} {i}/{n}: the index must be 0..COUNT-1 and the count 1..10000.");
        return new Shard(i, n);
    }

    public override string ToString() => $"{Index}/{Count}";
}
