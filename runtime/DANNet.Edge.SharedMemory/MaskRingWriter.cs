using System.IO.Hashing;
using System.Text;

namespace DANNet.Edge.SharedMemory;

/// <summary>
/// The one writer of a mask ring (docs/shm-layout.md). Publishing is lock-free and never waits for
/// readers. Write a mask straight into the next slot (<see cref="BeginFrame"/> / <see cref="Commit"/>)
/// or copy one in (<see cref="Publish"/>), from one thread. A timer keeps the heartbeat fresh
/// between frames.
/// </summary>
public sealed unsafe class MaskRingWriter : IDisposable
{
    private readonly MappedFile _file;
    private readonly Timer _heartbeat;
    private readonly Lock _writeLock = new();
    private ulong _nextFrameId = 1;
    private int _openSlot = -1;
    private bool _disposed;

    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;
    private readonly int _lockFd;

    private MaskRingWriter(string path, RingGeometry geometry, MappedFile file, Microsoft.Win32.SafeHandles.SafeFileHandle handle, int lockFd, ulong generation)
    {
        Path = path;
        Geometry = geometry;
        _file = file;
        _handle = handle;
        _lockFd = lockFd;
        Generation = generation;
        _heartbeat = new Timer(_ => Beat(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    }

    public string Path { get; }
    public RingGeometry Geometry { get; }
    public ulong Generation { get; }

    /// <summary>Frames published so far.</summary>
    public ulong Published => _nextFrameId - 1;

    /// <summary>
    /// Creates the ring at <paramref name="path"/> (by default /dev/shm/dannet-edge/masks) so that no other
    /// user can pre-empt, redirect or replace it (docs/shm-layout.md, "Security"): the ring's folder is
    /// the writer's own (made with <see cref="RingAccess.DirectoryMode"/> when missing, else it must be a real
    /// folder of this user that nobody else can write to); <c>&lt;name&gt;.lock</c> in it is held with
    /// <c>flock</c> for the writer's life, so exactly one writer runs; the file is built under a fresh
    /// name created with O_EXCL|O_NOFOLLOW, given its mode and group explicitly, and renamed into place
    /// (a reader still on an old file sees its heartbeat stop). Whatever is at the path must be this
    /// user's ring of this or an older layout, or a leftover shorter than a header; anything else is refused.
    /// </summary>
    public static MaskRingWriter Create(string path, RingGeometry geometry, RingDescription description, RingAccess? access = null)
    {
        geometry.Validate();
        access ??= new RingAccess();
        access.Validate();
        if (description.ClassNames.Count != geometry.ClassCount || description.Palette.Count != geometry.ClassCount)
            throw new ArgumentException($"The ring describes {geometry.ClassCount} classes but got {description.ClassNames.Count} names and {description.Palette.Count} colours.");
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("The mask ring is a Linux shared-memory file.");
        string full = System.IO.Path.GetFullPath(path);
        string name = System.IO.Path.GetFileName(full);
        if (name.Length == 0 || name.StartsWith('.')) throw new ArgumentException($"'{path}' does not name a ring file (no name, or a hidden one).");
        uint? gid = access.GroupId();
        using var folder = RingFolder.OpenForWriter(System.IO.Path.GetDirectoryName(full)!, access, gid);
        int lockFd = AcquireWriterLock(folder, name, full);
        int fd = -1;
        string? temp = null;
        MappedFile? file = null;
        Microsoft.Win32.SafeHandles.SafeFileHandle? handle = null;
        try
        {
            RefuseForeignFile(folder, name, full);
            folder.RemoveLeftovers("." + name + ".new-");
            temp = "." + name + ".new-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
            fd = Posix.OpenAt(folder.Fd, temp, Posix.ORdWr | Posix.OCreat | Posix.OExcl | Posix.ONoFollow, 0x180);
            if (fd < 0) throw Failure(-fd, $"creating '{System.IO.Path.Combine(folder.Path, temp)}'");
            Apply(fd, access, gid, full);
            Check(Posix.Ftruncate(fd, geometry.FileSize), $"sizing '{full}' to {geometry.FileSize} bytes");
            handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
            fd = -1;
            var stream = new FileStream(handle, FileAccess.ReadWrite);
            file = MappedFile.Open(stream, writable: true);
            ulong generation = NewGeneration();
            WriteHeader(file, geometry, description, generation);
            Check(Posix.RenameAt(folder.Fd, temp, name), $"renaming the new ring into '{full}'");
            temp = null;
            return new MaskRingWriter(full, geometry, file, handle, lockFd, generation);
        }
        catch
        {
            file?.Dispose();
            handle?.Dispose();
            if (fd >= 0) Posix.Close(fd);
            if (temp is not null) Posix.UnlinkAt(folder.Fd, temp);
            Posix.Close(lockFd);
            throw;
        }
    }

    /// <summary>
    /// Takes <c>&lt;name&gt;.lock</c> with <c>flock(LOCK_EX|LOCK_NB)</c> and writes this pid into it. The lock is
    /// the kernel's: it is released when the writer exits in any way, and two writers can never both hold it.
    /// It is the writer's alone (mode 0600, whatever the ring's mode): flock works on a read-only descriptor,
    /// so a reader who could open it could wait in flock, be handed the lock when the writer exits, and keep
    /// every restart out.
    /// </summary>
    private static int AcquireWriterLock(RingFolder folder, string name, string ring)
    {
        string lockName = name + ".lock", lockPath = System.IO.Path.Combine(folder.Path, lockName);
        int fd = Posix.OpenAt(folder.Fd, lockName, Posix.ORdWr | Posix.OCreat | Posix.ONoFollow, 0x180);
        if (fd < 0) throw Failure(-fd, $"opening the writer lock '{lockPath}'");
        try
        {
            var st = Posix.Fstat(fd);
            if (st is not { IsRegular: true } s || s.Uid != Posix.EffectiveUid())
                throw new IOException($"'{lockPath}' is not a lock file of this user: refused. Remove it.");
            int locked = Posix.Flock(fd, Posix.LockEx | Posix.LockNb);
            if (locked == -Posix.EWouldBlock)
            {
                string pid = LockHolder(fd);
                throw new IOException($"Another writer (pid {pid}) is publishing to '{ring}' (it holds '{lockPath}'). Stop it first, or give this one another path.");
            }
            Check(locked, $"locking '{lockPath}'");
            Check(Posix.Fchmod(fd, LockMode), $"setting the mode of '{lockPath}'");
            Check(Posix.Ftruncate(fd, 0), $"clearing '{lockPath}'");
            Check(Posix.WriteAll(fd, System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n")),
                $"writing the pid into '{lockPath}'");
            return fd;
        }
        catch
        {
            Posix.Close(fd);
            throw;
        }
    }

    /// <summary>
    /// The pid written in the lock of a writer that is publishing to <paramref name="path"/> now ("?" when
    /// unreadable), or null when none is: a start-up check, so that a second daemon is refused before it
    /// loads a model. Only looks (the lock is taken for a moment and let go); <see cref="Create"/> decides.
    /// </summary>
    public static string? RunningWriter(string path)
    {
        string lockPath = System.IO.Path.GetFullPath(path) + ".lock";
        int fd = Posix.OpenAt(Posix.AtFdCwd, lockPath, Posix.ORdOnly | Posix.ONoFollow | Posix.ONonBlock);
        if (fd < 0) return null;   // no lock (or not ours to open): Create reports what is wrong
        try
        {
            if (Posix.Fstat(fd) is not { IsRegular: true }) return null;
            if (Posix.Flock(fd, Posix.LockEx | Posix.LockNb) != -Posix.EWouldBlock)
            {
                Posix.Flock(fd, Posix.LockUn);
                return null;
            }
            return LockHolder(fd);
        }
        finally
        {
            Posix.Close(fd);
        }
    }

    /// <summary>The pid a writer wrote into its lock ("?" when it cannot be read).</summary>
    private static string LockHolder(int lockFd)
    {
        Span<byte> text = stackalloc byte[16];
        long n = Posix.Pread(lockFd, text, 0);
        return n > 0 ? System.Text.Encoding.ASCII.GetString(text[..(int)n]).Trim() : "?";
    }

    /// <summary>The writer lock's mode: the writer's user only.</summary>
    public const uint LockMode = 0x180; // 0600

    /// <summary>The mode and group a ring is given, whatever the umask.</summary>
    private static void Apply(int fd, RingAccess access, uint? gid, string what)
    {
        Check(Posix.Fchmod(fd, access.Mode), $"setting the mode of '{what}'");
        if (gid is { } g && Posix.Fchown(fd, uint.MaxValue, g) is var r && r != 0)
            throw Failure(-r, $"giving '{what}' to group {access.Group} (this user must be a member of it)");
    }

    /// <summary>Refuses to replace what is not this user's ring of a layout this writer may replace.</summary>
    private static void RefuseForeignFile(RingFolder folder, string name, string full)
    {
        var st = Posix.Lstat(folder.Fd, name);
        if (st is null) return; // nothing there
        var s = st.Value;
        string kind = s.IsSymlink ? "a symbolic link" : s.IsDirectory ? "a folder" : "a special file";
        if (!s.IsRegular) throw new IOException($"'{full}' exists and is not a regular file ({kind}): refused. Remove it.");
        if (s.Uid != Posix.EffectiveUid())
            throw new IOException($"'{full}' belongs to {Posix.DescribeUser(s.Uid)}, not to this writer ({Posix.DescribeUser(Posix.EffectiveUid())}): refused. Remove it.");
        if (s.Size < ShmLayout.HeaderSize) return; // a leftover (e.g. truncated): replaced
        int fd = Posix.OpenAt(folder.Fd, name, Posix.ORdOnly | Posix.ONoFollow | Posix.ONonBlock);
        if (fd < 0) throw Failure(-fd, $"reading '{full}'");
        try
        {
            Span<byte> head = stackalloc byte[12];
            if (Posix.Pread(fd, head, 0) != head.Length) return;
            ulong magic = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(head);
            uint version = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(head[8..]);
            if (magic != ShmLayout.Magic) throw new IOException($"'{full}' is not a mask ring (no DNETMASK magic): refused. Remove it, or publish to another path.");
            if (version > ShmLayout.Version)
                throw new IOException($"'{full}' is a ring of layout version {version}, newer than this writer's {ShmLayout.Version}: refused (a newer " +
                    "dannet-edge made it). Use that version, or remove the file to go back.");
        }
        finally
        {
            Posix.Close(fd);
        }
    }

    private static void Check(int result, string what)
    {
        if (result != 0) throw Failure(-result, what);
    }

    internal static IOException Failure(int errno, string what) =>
        new($"Failed {what}: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");

    private static ulong NewGeneration()
    {
        ulong g = (ulong)DateTime.UtcNow.Ticks ^ ((ulong)Environment.ProcessId << 40) ^ (ulong)Random.Shared.NextInt64();
        return g == 0 ? 1 : g;
    }

    private static void WriteHeader(MappedFile f, RingGeometry g, RingDescription d, ulong generation)
    {
        f.WriteUInt32(ShmLayout.VersionOffset, ShmLayout.Version);
        f.WriteUInt32(ShmLayout.HeaderSizeOffset, ShmLayout.HeaderSize);
        f.WriteUInt32(ShmLayout.SlotCountOffset, (uint)g.SlotCount);
        f.WriteUInt32(ShmLayout.SlotStrideOffset, (uint)g.SlotStride);
        f.WriteUInt32(ShmLayout.SlotHeaderSizeOffset, ShmLayout.SlotHeaderSize);
        f.WriteUInt32(ShmLayout.WidthOffset, (uint)g.Width);
        f.WriteUInt32(ShmLayout.HeightOffset, (uint)g.Height);
        f.WriteUInt32(ShmLayout.ClassCountOffset, (uint)g.ClassCount);
        f.WriteUInt32(ShmLayout.PixelFormatOffset, ShmLayout.PixelFormatClassIds);
        f.WriteUInt32(ShmLayout.WriterPidOffset, (uint)Environment.ProcessId);
        f.WriteUInt64(ShmLayout.GenerationOffset, generation);
        f.WriteUInt64(ShmLayout.HeartbeatOffset, MonotonicClock.NowNs);
        f.WriteUInt64(ShmLayout.CreatedUnixNsOffset, (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100);
        var palette = f.Bytes(ShmLayout.PaletteOffset, ShmLayout.PaletteSize);
        for (int i = 0; i < d.Palette.Count; i++)
        {
            var (r, gr, b) = d.Palette[i];
            palette[4 * i] = r;
            palette[4 * i + 1] = gr;
            palette[4 * i + 2] = b;
            palette[4 * i + 3] = 255;
        }
        WriteText(f.Bytes(ShmLayout.ModelOffset, ShmLayout.ModelSize), d.Model, "model name");
        WriteText(f.Bytes(ShmLayout.ClassNamesOffset, ShmLayout.ClassNamesSize), string.Join('\n', d.ClassNames), "class names");
        for (int i = 0; i < g.SlotCount; i++)
            f.WriteUInt32(ShmLayout.SlotOffset(i, g.SlotStride) + ShmLayout.SlotMaskBytesOffset, (uint)g.MaskBytes);
        // The magic last: a reader that sees it sees a complete header.
        Thread.MemoryBarrier();
        f.WriteRelease(ShmLayout.MagicOffset, ShmLayout.Magic);
    }

    private static void WriteText(Span<byte> field, string text, string what)
    {
        int n = Encoding.UTF8.GetByteCount(text);
        if (n >= field.Length) throw new ArgumentException($"The {what} take {n} bytes of UTF-8; the ring header has room for {field.Length - 1}.");
        Encoding.UTF8.GetBytes(text, field);
    }

    /// <summary>The slot the next (or the currently open) frame goes to.</summary>
    public int NextSlot => (int)((_nextFrameId - 1) % (ulong)Geometry.SlotCount);

    /// <summary>
    /// Address of slot <paramref name="index"/>'s mask bytes, for producers that write into the slot
    /// directly (an ONNX Runtime output bound to it). Write there only between <see cref="BeginFrame"/>
    /// and <see cref="Commit"/> of a frame in that slot.
    /// </summary>
    public IntPtr SlotMaskAddress(int index)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Geometry.SlotCount);
        return (IntPtr)_file.Pointer(SlotStart(index) + ShmLayout.SlotHeaderSize);
    }

    /// <summary>
    /// Opens the next slot for writing (its sequence becomes odd: readers skip it) and returns its
    /// mask bytes to fill. Finish with <see cref="Commit"/>.
    /// </summary>
    public Span<byte> BeginFrame()
    {
        lock (_writeLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_openSlot >= 0) throw new InvalidOperationException("The previous frame was not committed.");
            ThrowIfTruncated();
            _openSlot = (int)((_nextFrameId - 1) % (ulong)Geometry.SlotCount);
            long slot = SlotStart(_openSlot);
            ulong sequence = _file.ReadUInt64(slot + ShmLayout.SlotSequenceOffset);
            _file.WriteRelease(slot + ShmLayout.SlotSequenceOffset, sequence | 1);
            // The odd sequence must be visible before any byte of the new mask is.
            Thread.MemoryBarrier();
            return _file.Bytes(slot + ShmLayout.SlotHeaderSize, Geometry.MaskBytes);
        }
    }

    /// <summary>Completes the open slot as the next frame and makes it the latest. Returns its frame id.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public ulong Commit(ulong captureNs)
    {
        lock (_writeLock)
        {
            if (_openSlot < 0) throw new InvalidOperationException("No frame was begun.");
            long slot = SlotStart(_openSlot);
            ulong frameId = _nextFrameId;
            var mask = _file.Bytes(slot + ShmLayout.SlotHeaderSize, Geometry.MaskBytes);
            _file.WriteUInt64(slot + ShmLayout.SlotFrameIdOffset, frameId);
            _file.WriteUInt64(slot + ShmLayout.SlotCaptureNsOffset, captureNs);
            _file.WriteUInt32(slot + ShmLayout.SlotCrcOffset, RingChecksum.Crc32C(mask));
            ulong now = MonotonicClock.NowNs;
            _file.WriteUInt64(slot + ShmLayout.SlotPublishNsOffset, now);
            ulong sequence = _file.ReadUInt64(slot + ShmLayout.SlotSequenceOffset);
            _file.WriteRelease(slot + ShmLayout.SlotSequenceOffset, sequence + 1);
            _file.WriteRelease(ShmLayout.LatestFrameIdOffset, frameId);
            _file.WriteRelease(ShmLayout.FramesPublishedOffset, frameId);
            _file.WriteRelease(ShmLayout.HeartbeatOffset, now);
            _nextFrameId++;
            _openSlot = -1;
            return frameId;
        }
    }

    /// <summary>Copies <paramref name="mask"/> into the next slot and publishes it.</summary>
    public ulong Publish(ReadOnlySpan<byte> mask, ulong captureNs)
    {
        if (mask.Length != Geometry.MaskBytes)
            throw new ArgumentException($"Mask has {mask.Length} bytes; the ring holds {Geometry.Width}x{Geometry.Height} = {Geometry.MaskBytes}.");
        mask.CopyTo(BeginFrame());
        return Commit(captureNs);
    }

    /// <summary>Adds to the count of frames the pipeline dropped before publishing (readers show it).</summary>
    public void CountDropped(ulong frames)
    {
        lock (_writeLock)
        {
            if (_disposed) return;
            _file.WriteRelease(ShmLayout.FramesDroppedOffset, _file.ReadUInt64(ShmLayout.FramesDroppedOffset) + frames);
        }
    }

    private long SlotStart(int index) => ShmLayout.SlotOffset(index, Geometry.SlotStride);

    /// <summary>
    /// Stops the writer with an error instead of a SIGBUS when someone (root, or this user) has shrunk the file under it:
    /// writing through the mapping past the new end would kill the process.
    /// </summary>
    private void ThrowIfTruncated()
    {
        var st = Posix.Fstat((int)_handle.DangerousGetHandle());
        if (st is { } s && s.Size < Geometry.FileSize)
            throw new IOException($"The mask ring '{Path}' was truncated to {s.Size} bytes by another process (it needs {Geometry.FileSize}): " +
                "publishing stops; restart the writer to create it anew.");
    }

    /// <summary>
    /// Refreshes the heartbeat — only while the file still holds the header: a ring truncated under the writer must stop it at its next
    /// frame with <see cref="ThrowIfTruncated"/>'s error, not kill it with a SIGBUS from this timer (as a CI run once saw).
    /// </summary>
    private void Beat()
    {
        lock (_writeLock)
        {
            if (_disposed) return;
            if (Posix.Fstat((int)_handle.DangerousGetHandle()) is not { } st || st.Size < ShmLayout.HeaderSize) return;
            _file.WriteRelease(ShmLayout.HeartbeatOffset, MonotonicClock.NowNs);
        }
    }

    /// <summary>Stops the heartbeat and marks the ring as having no writer (pid 0); the file stays for readers.</summary>
    public void Dispose()
    {
        _heartbeat.Dispose();
        lock (_writeLock)
        {
            if (_disposed) return;
            _disposed = true;
            if (Posix.Fstat((int)_handle.DangerousGetHandle()) is { } st && st.Size >= ShmLayout.HeaderSize) _file.WriteUInt32(ShmLayout.WriterPidOffset, 0);
            _file.Dispose();
            _handle.Dispose();
            Posix.Close(_lockFd); // releases the writer lock
        }
    }
}
