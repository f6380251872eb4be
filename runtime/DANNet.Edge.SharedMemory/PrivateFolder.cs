namespace DANNet.Edge.SharedMemory;

/// <summary>A new folder only this user can enter, created exclusively (mkdir: anything already at the path — a folder, a file, a link — fails).</summary>
public static class PrivateFolder
{
    /// <summary>Creates <c>&lt;parent&gt;/&lt;prefix&gt;&lt;16 random hex digits&gt;</c> with mode 0700 and returns its path.</summary>
    public static string Create(string parent, string prefix)
    {
        string folder = Path.Combine(Path.GetFullPath(parent),
            prefix + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant());
        int error = Posix.MkdirAt(Posix.AtFdCwd, folder, Convert.ToUInt32("700", 8));
        if (error != 0) throw new IOException($"Cannot create the private folder '{folder}' (errno {-error}).");
        return folder;
    }
}
