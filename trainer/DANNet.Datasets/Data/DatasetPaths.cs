namespace DANNet.Trainer.Data;

/// <summary>Folder checks shared by the loaders, with errors that say which folder and what layout was expected.</summary>
public static class DatasetPaths
{
    public static string RequireDirectory(string path, string what, string expected)
    {
        if (!Directory.Exists(path))
            throw new DatasetException($"{what} folder '{path}' does not exist; expected {expected}.");
        return path;
    }

    /// <summary>
    /// Pairs every <c>&lt;images&gt;/&lt;group&gt;/&lt;stem&gt;&lt;imageSuffix&gt;</c> (<paramref name="groupName"/>: city or sequence) with
    /// <c>&lt;labels&gt;/&lt;group&gt;/&lt;stem&gt;&lt;labelSuffix&gt;</c>, in ordinal order. A missing label or an empty
    /// folder fails here, when the set is opened, naming the files.
    /// </summary>
    public static List<LabelledSample> LabelledImages(string images, string imageSuffix, string labels, string labelSuffix, string what, string groupName)
    {
        var samples = new List<LabelledSample>();
        var files = Directory.EnumerateDirectories(images)
            .SelectMany(d => Directory.EnumerateFiles(d, "*" + imageSuffix))
            .Order(StringComparer.Ordinal);
        foreach (var image in files)
        {
            string stem = Path.GetFileName(image)[..^imageSuffix.Length];
            string group = Path.GetFileName(Path.GetDirectoryName(image)!);
            string label = Path.Combine(labels, group, stem + labelSuffix);
            if (!File.Exists(label))
                throw new DatasetException($"{what} '{image}' has no label: '{label}' is missing. Restore the label or remove the image.");
            samples.Add(new LabelledSample(stem, image, label));
        }
        if (samples.Count == 0)
            throw new DatasetException($"No images in '{images}': expected <{groupName}>/*{imageSuffix} files.");
        return samples;
    }
}
