using System.Runtime.InteropServices;

namespace DANNet.Edge.SharedMemory;

/// <summary>What the kernel says about an open file or a path (statx; the same layout on x86-64 and ARM64).</summary>
internal readonly record struct FileStat(uint Uid, uint Gid, uint Mode, long Size, ulong Inode, ulong Device)
{
    private const uint TypeMask = 0xF000, Regular = 0x8000, Directory = 0x4000, Link = 0xA000;

    public bool IsRegular => (Mode & TypeMask) == Regular;
    public bool IsDirectory => (Mode & TypeMask) == Directory;
    public bool IsSymlink => (Mode & TypeMask) == Link;

    /// <summary>The permission bits (rwxrwxrwx and setuid/setgid/sticky).</summary>
    public uint Permissions => Mode & 0xFFF;

    /// <summary>Writable by the group or by anyone: someone other than the owner could change it.</summary>
    public bool WritableByOthers => (Mode & 0x12) != 0;
}

/// <summary>
/// The few POSIX calls the ring needs that .NET does not offer: creating and opening files relative
/// to a directory without following symlinks, exclusive creation, <c>flock</c>, ownership and mode of
/// an open file, and <c>pread</c> (a read that a truncated file answers with fewer bytes, where a
/// mapping would raise SIGBUS). Linux only; flag values differ between x86-64 and ARM64 and are chosen here.
/// </summary>
internal static unsafe partial class Posix
{
    public const int AtFdCwd = -100;
    public const int ORdOnly = 0, ORdWr = 2, OCreat = 0x40, OExcl = 0x80, ONonBlock = 0x800, OCloExec = 0x80000;
    public const int LockSh = 1, LockEx = 2, LockNb = 4, LockUn = 8;
    public const int EExist = 17, EWouldBlock = 11, ENoEnt = 2, ELoop = 40, ENotDir = 20;
    private const int AtSymlinkNoFollow = 0x100, AtEmptyPath = 0x1000, StatxBasic = 0x7FF;

    private static readonly bool Arm = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    /// <summary>O_NOFOLLOW: the last path component must not be a symlink (ELOOP otherwise).</summary>
    public static int ONoFollow => Arm ? 0x8000 : 0x20000;

    /// <summary>O_DIRECTORY: fail unless the path is a directory.</summary>
    public static int ODirectory => Arm ? 0x4000 : 0x10000;

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAtNative(int dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkdirAtNative(int dirfd, string path, uint mode);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAtNative(int olddirfd, string oldpath, int newdirfd, string newpath);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkAtNative(int dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint ReadLinkAtNative(int dirfd, string path, byte* buffer, nint size);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockNative(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FchmodNative(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    private static partial int FchownNative(int fd, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FtruncateNative(int fd, long length);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static partial nint PreadNative(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteNative(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint EffectiveUid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    public static partial uint EffectiveGid();

    [LibraryImport("libc", EntryPoint = "getgrnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetGroupByName(string name);

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetUserByName(string name);

    [LibraryImport("libc", EntryPoint = "getpwuid")]
    private static partial IntPtr GetUserById(uint uid);

    /// <summary>The errno of the last failed call, with the C library's text.</summary>
    public static (int Errno, string Text) LastError()
    {
        int errno = Marshal.GetLastPInvokeError();
        return (errno, Marshal.GetPInvokeErrorMessage(errno));
    }

    /// <summary>openat; returns the descriptor or −errno.</summary>
    public static int OpenAt(int dirfd, string path, int flags, uint mode = 0)
    {
        int fd = OpenAtNative(dirfd, path, flags | OCloExec, mode);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>mkdirat; 0 or −errno.</summary>
    public static int MkdirAt(int dirfd, string path, uint mode) => MkdirAtNative(dirfd, path, mode) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    /// <summary>renameat within one directory; 0 or −errno.</summary>
    public static int RenameAt(int dirfd, string from, string to) => RenameAtNative(dirfd, from, dirfd, to) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    /// <summary>unlinkat of a file; 0 or −errno.</summary>
    /// <summary>The target of the symbolic link <paramref name="path"/> into <paramref name="buffer"/>: its length, or −errno.</summary>
    public static long ReadLinkAt(int dirfd, string path, byte[] buffer)
    {
        fixed (byte* b = buffer)
        {
            nint n = ReadLinkAtNative(dirfd, path, b, buffer.Length);
            return n >= 0 ? n : -Marshal.GetLastPInvokeError();
        }
    }

    public static int UnlinkAt(int dirfd, string path) => UnlinkAtNative(dirfd, path, 0) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    /// <summary>flock; 0 or −errno.</summary>
    public static int Flock(int fd, int operation) => FlockNative(fd, operation) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    public static int Fchmod(int fd, uint mode) => FchmodNative(fd, mode) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    /// <summary>fchown; uint.MaxValue (−1) leaves that id unchanged.</summary>
    public static int Fchown(int fd, uint uid, uint gid) => FchownNative(fd, uid, gid) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    public static int Ftruncate(int fd, long length) => FtruncateNative(fd, length) == 0 ? 0 : -Marshal.GetLastPInvokeError();

    /// <summary>The open file's owner, mode, size and identity; null (with errno) when the kernel refuses.</summary>
    public static FileStat? Fstat(int fd) => Statx(fd, "", AtEmptyPath);

    /// <summary>The path's own owner, mode and identity, not following a symlink at the end.</summary>
    public static FileStat? Lstat(int dirfd, string path) => Statx(dirfd, path, AtSymlinkNoFollow);

    private static FileStat? Statx(int dirfd, string path, int flags)
    {
        byte* b = stackalloc byte[256];
        if (StatxNative(dirfd, path, flags, StatxBasic, b) != 0) return null;
        return new FileStat(*(uint*)(b + 20), *(uint*)(b + 24), *(ushort*)(b + 28), *(long*)(b + 40), *(ulong*)(b + 32),
            ((ulong)*(uint*)(b + 136) << 32) | *(uint*)(b + 140));
    }

    /// <summary>
    /// Reads up to <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>; returns how many
    /// (fewer at the end of the file: a truncated file is a short read, never a signal) or −errno.
    /// </summary>
    public static long Pread(int fd, Span<byte> buffer, long offset)
    {
        long done = 0;
        fixed (byte* p = buffer)
        {
            while (done < buffer.Length)
            {
                nint n = PreadNative(fd, p + done, (nuint)(buffer.Length - done), offset + done);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == 4) continue; // EINTR
                    return -errno;
                }
                if (n == 0) break;
                done += n;
            }
        }
        return done;
    }

    /// <summary>Writes all of <paramref name="bytes"/> at the descriptor's position; 0 or −errno.</summary>
    public static int WriteAll(int fd, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            long done = 0;
            while (done < bytes.Length)
            {
                nint n = WriteNative(fd, p + done, (nuint)(bytes.Length - done));
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == 4) continue;
                    return -errno;
                }
                done += n;
            }
        }
        return 0;
    }

    /// <summary>A group id from a name or a number; null when there is no such group.</summary>
    public static uint? GroupId(string nameOrId)
    {
        if (uint.TryParse(nameOrId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint id)) return id;
        IntPtr g = GetGroupByName(nameOrId);
        // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem; }
        return g == IntPtr.Zero ? null : *(uint*)((byte*)g + 2 * IntPtr.Size);
    }

    /// <summary>A user id from a name or a number; null when there is no such user.</summary>
    public static uint? UserId(string nameOrId)
    {
        if (uint.TryParse(nameOrId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint id)) return id;
        IntPtr u = GetUserByName(nameOrId);
        // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... }
        return u == IntPtr.Zero ? null : *(uint*)((byte*)u + 2 * IntPtr.Size);
    }

    /// <summary>"name (uid N)" for messages, or "uid N" when the user has no name here.</summary>
    public static string DescribeUser(uint uid)
    {
        IntPtr u = GetUserById(uid);
        string? name = u == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(*(IntPtr*)u);
        return name is null ? $"uid {uid}" : $"{name} (uid {uid})";
    }
}
