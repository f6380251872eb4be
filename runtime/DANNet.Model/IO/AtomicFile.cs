namespace DANNet.Model.IO;

/// <summary>
/// Writes files so that a reader (or a crash) never sees half of one: the bytes go to a temporary
/// file in the same folder, which is then renamed over the target in one step. The temporary file
/// is created exclusively under an unpredictable name (<see cref="CreateTemp"/>), so nothing someone
/// planted beside the target — a file, a link — is ever opened or written through.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string full = Path.GetFullPath(path);
        string temp = CreateTemp(full);
        try
        {
            using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// A new, empty file beside <paramref name="path"/> (its folder created if missing), created exclusively
    /// (O_CREAT|O_EXCL: never a file or link that was there) under a hidden, unpredictable name that keeps the
    /// target's extension (writers that pick a format by it, such as OpenCV's video writer, still can):
    /// <c>.name.part-&lt;16 hex digits&gt;.ext</c>. The caller writes it and renames it over the target.
    /// </summary>
    public static string CreateTemp(string path)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileNameWithoutExtension(full)}.part-" +
            $"{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}{Path.GetExtension(full)}");
        new FileStream(temp, FileMode.CreateNew, FileAccess.Write).Dispose();
        return temp;
    }
}
