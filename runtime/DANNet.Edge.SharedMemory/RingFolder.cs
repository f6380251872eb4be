namespace DANNet.Edge.SharedMemory;

/// <summary>
/// The folder a ring lives in, held open by descriptor so that every later step (lock, new file,
/// rename) happens in that very folder even if someone renames paths around it. A writer's folder
/// must be its own: a real folder (not a symbolic link) owned by the writer's user that no one else
/// can write to — inside it, no other user can create, replace or redirect anything.
/// </summary>
internal sealed class RingFolder : IDisposable
{
    private RingFolder(string path, int fd)
    {
        Path = path;
        Fd = fd;
    }

    public string Path { get; }
    public int Fd { get; private set; }

    /// <summary>
    /// Opens (creating it, one level, with the access's folder mode and group when missing) the writer's folder
    /// <paramref name="path"/>, refusing a symbolic link, another user's folder, or one that others can write to.
    /// </summary>
    public static RingFolder OpenForWriter(string path, RingAccess access, uint? gid)
    {
        string full = System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(path));
        string parent = System.IO.Path.GetDirectoryName(full) ?? throw new ArgumentException($"The ring cannot live in '{full}' (the file system root).");
        string name = System.IO.Path.GetFileName(full);
        int parentFd = OpenTrustedPath(parent, full);
        try
        {
            bool created = Posix.MkdirAt(parentFd, name, access.DirectoryMode) == 0;
            if (!created && ReplaceOwnOldRing(parentFd, name)) created = Posix.MkdirAt(parentFd, name, access.DirectoryMode) == 0;
            int fd = Posix.OpenAt(parentFd, name, Posix.ORdOnly | Posix.ODirectory | Posix.ONoFollow);
            // With O_DIRECTORY a symbolic link is reported as "not a directory": ask what it is.
            if (fd == -Posix.ENotDir && Posix.Lstat(parentFd, name) is { IsSymlink: true }) fd = -Posix.ELoop;
            if (fd < 0)
                throw -fd switch
                {
                    Posix.ELoop => new IOException($"The ring's folder '{full}' is a symbolic link: refused (another user may be redirecting the ring). Remove it."),
                    Posix.ENotDir => new IOException($"The ring's folder '{full}' is not a folder: refused. Remove it."),
                    Posix.ENoEnt => new DirectoryNotFoundException($"The ring's folder '{full}' does not exist and could not be created."),
                    _ => MaskRingWriter.Failure(-fd, $"opening the ring's folder '{full}'"),
                };
            var folder = new RingFolder(full, fd);
            try
            {
                var st = Posix.Fstat(fd) ?? throw MaskRingWriter.Failure(Posix.LastError().Errno, $"examining '{full}'");
                uint me = Posix.EffectiveUid();
                if (st.Uid != me)
                    throw new IOException($"The ring's folder '{full}' belongs to {Posix.DescribeUser(st.Uid)}, not to this writer ({Posix.DescribeUser(me)}): " +
                        "someone else made it first. Refused; remove it (as root), or publish elsewhere.");
                if (!created && st.WritableByOthers)
                    throw new IOException($"The ring's folder '{full}' can be written by its group or by anyone (mode " +
                        $"{Convert.ToString(st.Permissions, 8)}): another user could replace the ring. Refused; use a folder of the writer's own (chmod go-w).");
                // The folder is the writer's own (made now, or found owned by it and closed to other writers): its mode and group
                // are set to what this ring's readers need, not left to the umask or to whoever made it before (a 0700 folder
                // would shut the readers' group out; a folder of another group would hand the ring to that group's members).
                if (st.Permissions != access.DirectoryMode && Posix.Fchmod(fd, access.DirectoryMode) is var r && r != 0)
                    throw MaskRingWriter.Failure(-r, $"setting the mode of '{full}'");
                uint wantedGid = gid ?? Posix.EffectiveGid();
                if (st.Gid != wantedGid && Posix.Fchown(fd, uint.MaxValue, wantedGid) is var c && c != 0)
                    throw MaskRingWriter.Failure(-c, $"giving '{full}' to group {access.Group ?? "of this user"} (this user must be a member of it)");
                return folder;
            }
            catch
            {
                folder.Dispose();
                throw;
            }
        }
        finally
        {
            Posix.Close(parentFd);
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> walking it from the root one component at a time, so that no other user can
    /// redirect the writer through it: every component must be a folder owned by root or by this user, and one that
    /// others can write to must be sticky (as /dev/shm and /tmp are: nobody can replace what they did not make). A
    /// symbolic link is followed only when root or this user owns it and its folder passed the same test (as /var/run → /run);
    /// a link another user planted (/dev/shm/pp → /root/victim) is refused.
    /// </summary>
    internal static int OpenTrustedPath(string path, string ring)
    {
        uint me = Posix.EffectiveUid();
        int fd = Posix.OpenAt(Posix.AtFdCwd, "/", Posix.ORdOnly | Posix.ODirectory);
        if (fd < 0) throw MaskRingWriter.Failure(-fd, "opening /");
        string walked = "";
        var pending = new Queue<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        int links = 0;
        try
        {
            while (pending.TryDequeue(out string? name))
            {
                string here = walked + "/" + name;
                var st = Posix.Lstat(fd, name);
                if (st is null)
                    throw new DirectoryNotFoundException($"Cannot create the mask ring's folder for '{ring}': '{here}' does not exist.");
                var s = st.Value;
                if (s.Uid != 0 && s.Uid != me)
                    throw new IOException($"'{here}' (on the way to the ring '{ring}') belongs to {Posix.DescribeUser(s.Uid)}: another user could redirect " +
                        "the ring through it. Refused; publish under folders of root or of the writer's user.");
                if (s.IsSymlink)
                {
                    if (++links > 16) throw new IOException($"'{path}' has too many symbolic links on the way to the ring '{ring}'.");
                    string target = ReadLink(fd, name, here);
                    var rest = pending.ToArray();
                    pending.Clear();
                    foreach (var part in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(rest)) pending.Enqueue(part);
                    if (target.StartsWith('/'))
                    {
                        Posix.Close(fd);
                        fd = Posix.OpenAt(Posix.AtFdCwd, "/", Posix.ORdOnly | Posix.ODirectory);
                        walked = "";
                    }
                    continue;
                }
                if (!s.IsDirectory) throw new IOException($"'{here}' (on the way to the ring '{ring}') is not a folder.");
                if (s.WritableByOthers && (s.Mode & 0x200) == 0)
                    throw new IOException($"'{here}' (on the way to the ring '{ring}') can be written by other users and is not sticky: one of them could " +
                        "replace what lies below it. Refused; publish elsewhere (chmod o-w, or +t).");
                int next = name == ".." ? Posix.OpenAt(fd, name, Posix.ORdOnly | Posix.ODirectory)
                    : Posix.OpenAt(fd, name, Posix.ORdOnly | Posix.ODirectory | Posix.ONoFollow);
                if (next < 0) throw MaskRingWriter.Failure(-next, $"opening '{here}'");
                Posix.Close(fd);
                fd = next;
                walked = here;
            }
            return fd;
        }
        catch
        {
            Posix.Close(fd);
            throw;
        }
    }

    private static string ReadLink(int dirFd, string name, string here)
    {
        var buffer = new byte[4096];
        long n = Posix.ReadLinkAt(dirFd, name, buffer);
        if (n < 0) throw MaskRingWriter.Failure((int)-n, $"reading the link '{here}'");
        return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)n);
    }

    /// <summary>
    /// Before layout folders, the ring was a file at the folder's path (/dev/shm/dannet-edge): when this user's old
    /// ring is there, it goes so that the folder can be made. Anything else at that path stays and is refused later.
    /// </summary>
    private static bool ReplaceOwnOldRing(int parentFd, string name)
    {
        if (Posix.Lstat(parentFd, name) is not { IsRegular: true } st || st.Uid != Posix.EffectiveUid() || st.Size < ShmLayout.HeaderSize) return false;
        int fd = Posix.OpenAt(parentFd, name, Posix.ORdOnly | Posix.ONoFollow | Posix.ONonBlock);
        if (fd < 0) return false;
        Span<byte> magic = stackalloc byte[8];
        bool ring = Posix.Pread(fd, magic, 0) == 8 && System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(magic) == ShmLayout.Magic;
        Posix.Close(fd);
        return ring && Posix.UnlinkAt(parentFd, name) == 0;
    }

    /// <summary>Removes this user's files in the folder whose names start with <paramref name="prefix"/> (half-made rings of a crashed writer).</summary>
    public void RemoveLeftovers(string prefix)
    {
        foreach (var file in Directory.EnumerateFiles(Path, prefix + "*"))
        {
            string name = System.IO.Path.GetFileName(file);
            if (Posix.Lstat(Fd, name) is { IsRegular: true } st && st.Uid == Posix.EffectiveUid()) Posix.UnlinkAt(Fd, name);
        }
    }

    public void Dispose()
    {
        if (Fd < 0) return;
        Posix.Close(Fd);
        Fd = -1;
    }
}
