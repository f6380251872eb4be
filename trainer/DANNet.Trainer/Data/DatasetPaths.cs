namespace DANNet.Trainer.Data;

/// <summary>Folder checks shared by the loaders, with errors that say which folder and what layout was expected.</summary>
internal static class DatasetPaths
{
    public static string RequireDirectory(string path, string what, string expected)
    {
        if (!Directory.Exists(path))
            throw new DatasetException($"{what} folder '{path}' does not exist; expected {expected}.");
        return path;
    }

    /// <summary>Files matching <paramref name="suffix"/> one folder level below <paramref name="dir"/>, in ordinal order.</summary>
    public static List<string> FilesInSubfolders(string dir, string suffix) =>
        Directory.EnumerateDirectories(dir)
            .SelectMany(d => Directory.EnumerateFiles(d, "*" + suffix))
            .Order(StringComparer.Ordinal)
            .ToList();
}
