using DANNet.Edge.Contracts;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace DANNet.Edge.SharedMemory;

/// <summary>
/// A reader of a mask ring (docs/shm-layout.md), in any process. It never writes to the ring and
/// never blocks or slows the writer. It does not map the file: every read is a <c>pread</c>, so a
/// ring truncated under it is a short read reported as <see cref="ReadStatus.Damaged"/>, never a
/// SIGBUS. Before trusting a file it checks who owns it (<see cref="RingTrust"/>), that no one else
/// can write to it or its folder, and that every header field agrees with the layout's limits and
/// the file's size — all before it allocates anything sized by the header. Torn copies are detected
/// by the slot's seqlock sequence (and a CRC-32) and discarded; a restarted writer by the
/// generation; a dead one by the heartbeat and its pid.
/// </summary>
public sealed class MaskRingReader : IDisposable
{
    /// <summary>The header prefix re-read on every poll: magic to created_unix_ns.</summary>
    private const int PrefixSize = 96;

    private readonly SafeFileHandle _handle;
    private readonly int _fd;
    private readonly FileStat _identity;
    private readonly byte[] _prefix = new byte[PrefixSize];
    private readonly byte[] _slotHeader = new byte[ShmLayout.SlotHeaderSize];
    private ulong _lastFrameId;

    private MaskRingReader(string path, SafeFileHandle handle, FileStat identity, RingGeometry geometry, ulong generation, string model,
        string[] classNames, Rgb[] palette, uint version)
    {
        LayoutVersion = version;
        Path = path;
        _handle = handle;
        _fd = (int)handle.DangerousGetHandle();
        _identity = identity;
        Geometry = geometry;
        Generation = generation;
        Model = model;
        ClassNames = classNames;
        Palette = palette;
    }

    public string Path { get; }
    public RingGeometry Geometry { get; }

    /// <summary>The layout version of the ring this reader opened (it decides the slot checksum).</summary>
    public uint LayoutVersion { get; }

    /// <summary>The writer generation this reader was opened on.</summary>
    public ulong Generation { get; }

    public string Model { get; }
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>The class colours the writer published, one per class id.</summary>
    public IReadOnlyList<Rgb> Palette { get; }

    /// <summary>The user that owns the ring (the writer).</summary>
    public uint OwnerUid => _identity.Uid;

    /// <summary>Reads that found the slot rewritten under them.</summary>
    public long Overruns { get; private set; }

    /// <summary>Reads whose mask did not match its checksum.</summary>
    public long ChecksumFailures { get; private set; }

    private System.Buffers.SearchValues<byte>? _invalid;

    /// <summary>Frames discarded because their mask held values that are no class (≥ class_count, not 255).</summary>
    public long InvalidFrames { get; private set; }

    public int WriterPid => Prefix() ? (int)U32(ShmLayout.WriterPidOffset) : 0;
    public ulong LatestFrameId => Prefix() ? U64(ShmLayout.LatestFrameIdOffset) : 0;
    public ulong FramesPublished => Prefix() ? U64(ShmLayout.FramesPublishedOffset) : 0;
    public ulong FramesDropped => Prefix() ? U64(ShmLayout.FramesDroppedOffset) : 0;

    /// <summary>The generation in the file now (0 when the header can no longer be read).</summary>
    public ulong CurrentGeneration => Prefix() ? U64(ShmLayout.GenerationOffset) : 0;

    /// <summary>Time since the writer's last heartbeat (<see cref="TimeSpan.MaxValue"/> when the header can no longer be read).</summary>
    public TimeSpan HeartbeatAge
    {
        get
        {
            if (!Prefix()) return TimeSpan.MaxValue;
            ulong beat = U64(ShmLayout.HeartbeatOffset), now = MonotonicClock.NowNs;
            return TimeSpan.FromTicks(now > beat ? (long)Math.Min((now - beat) / 100, long.MaxValue / 2) : 0);
        }
    }

    /// <summary>
    /// Opens the ring at <paramref name="path"/>: not a symbolic link; a regular file owned by a user
    /// <paramref name="trust"/> accepts (default: you or root), in a folder of the same owner (or root's),
    /// neither writable by anyone else; then magic, version and every geometry field against the layout's
    /// limits and the file's size. Each refusal names the file and the reason.
    /// </summary>
    public static MaskRingReader Open(string path, RingTrust? trust = null)
    {
        trust ??= new RingTrust();
        string full = System.IO.Path.GetFullPath(path);
        int fd = Posix.OpenAt(Posix.AtFdCwd, full, Posix.ORdOnly | Posix.ONoFollow | Posix.ONonBlock);
        if (fd < 0)
            throw -fd switch
            {
                Posix.ENoEnt or Posix.ENotDir => new FileNotFoundException($"No mask ring at '{full}'. Is dannet-edge running (and publishing to this path)?", full),
                Posix.ELoop => new InvalidDataException($"'{full}' is a symbolic link; a ring never is one: refused (someone may be redirecting readers)."),
                _ => new IOException($"Cannot open the mask ring '{full}': {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(-fd)}."),
            };
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var st = Posix.Fstat(fd) ?? throw new IOException($"Cannot examine '{full}'.");
            if (!st.IsRegular) throw new InvalidDataException($"'{full}' is not a regular file: not a mask ring.");
            if (!trust.Trusts(st.Uid))
                throw new InvalidDataException($"'{full}' belongs to {Posix.DescribeUser(st.Uid)}, not to {trust.Describe()}: refused (another user could have made it). " +
                    "If that user is the writer you trust, name it (tap --owner, DANNET_EDGE_RING_OWNER).");
            if (st.WritableByOthers)
                throw new InvalidDataException($"'{full}' can be written by its group or by anyone (mode {Convert.ToString(st.Permissions, 8)}): " +
                    "its masks could be forged; refused.");
            string folder = System.IO.Path.GetDirectoryName(full)!;
            var dir = Posix.Lstat(Posix.AtFdCwd, folder);
            if (dir is not { IsDirectory: true } d || (d.Uid != st.Uid && d.Uid != 0) || d.WritableByOthers)
                throw new InvalidDataException($"'{full}' is in '{folder}', which is not a folder that only the ring's owner (or root) can write to: " +
                    "anyone could have put or replaced the file there; refused. Publish into the writer's own folder (default /dev/shm/dannet-edge/).");
            return Validate(full, handle, st);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static MaskRingReader Validate(string path, SafeFileHandle handle, FileStat st)
    {
        int fd = (int)handle.DangerousGetHandle();
        if (st.Size < ShmLayout.HeaderSize)
            throw new InvalidDataException($"'{path}' is {st.Size} bytes, smaller than a ring header ({ShmLayout.HeaderSize}); not a DANNet Edge mask ring.");
        var h = new byte[ShmLayout.HeaderSize];
        if (Posix.Pread(fd, h, 0) != h.Length) throw new InvalidDataException($"'{path}' shrank while its header was read.");
        var header = RingHeader.Parse(h, st.Size, path);
        var palette = new Rgb[header.Geometry.ClassCount];
        for (int i = 0; i < palette.Length; i++)
            palette[i] = new Rgb(h[ShmLayout.PaletteOffset + 4 * i], h[ShmLayout.PaletteOffset + 4 * i + 1], h[ShmLayout.PaletteOffset + 4 * i + 2]);
        return new MaskRingReader(path, handle, st, header.Geometry, header.Generation, header.Model, header.ClassNames, palette, header.Version);
    }

    /// <summary>Re-reads the header prefix; false when the file no longer holds it (truncated) or it is no longer a ring of this layout.</summary>
    private bool Prefix()
    {
        if (Posix.Pread(_fd, _prefix, 0) != PrefixSize) return false;
        return BinaryPrimitives.ReadUInt64LittleEndian(_prefix) == ShmLayout.Magic && U32(ShmLayout.VersionOffset) == LayoutVersion;
    }

    private uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_prefix.AsSpan(offset));

    private ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(_prefix.AsSpan(offset));

    /// <summary>Whether the path now names another file than the one this reader has open (a writer created the ring anew, or it was removed).</summary>
    public bool IsReplaced() =>
        Posix.Lstat(Posix.AtFdCwd, Path) is not { } now || now.Inode != _identity.Inode || now.Device != _identity.Device;

    /// <summary>Whether the writer is alive: its pid is set and running, and its heartbeat is younger than <paramref name="staleAfter"/>.</summary>
    public WriterState WriterStatus(TimeSpan staleAfter)
    {
        if (!Prefix()) return WriterState.Dead;
        int pid = (int)U32(ShmLayout.WriterPidOffset);
        if (pid == 0) return WriterState.Stopped;
        if (HeartbeatAge > staleAfter || pid < 0 || (OperatingSystem.IsLinux() && !Directory.Exists($"/proc/{pid}"))) return WriterState.Dead;
        return WriterState.Alive;
    }

    /// <summary>
    /// Copies the newest frame into <paramref name="mask"/> (width·height bytes) if it is newer than
    /// the last one returned. Never waits: a frame being rewritten under the copy is reported as
    /// <see cref="ReadStatus.Overrun"/> and discarded; a file that shrank or whose header changed
    /// underneath as <see cref="ReadStatus.Damaged"/>.
    /// </summary>
    public ReadStatus TryReadLatest(Span<byte> mask, out MaskFrame frame, bool verifyChecksum = true)
    {
        frame = default;
        if (mask.Length < Geometry.MaskBytes) throw new ArgumentException($"The destination holds {mask.Length} bytes; a mask has {Geometry.MaskBytes}.");
        if (!Prefix()) return ReadStatus.Damaged;
        if (U64(ShmLayout.GenerationOffset) != Generation) return ReadStatus.WriterRestarted;
        ulong id = U64(ShmLayout.LatestFrameIdOffset);
        if (id == 0) return ReadStatus.NoFrameYet;
        if (id == _lastFrameId) return ReadStatus.NoNewFrame;

        long slot = ShmLayout.SlotOffset((int)((id - 1) % (ulong)Geometry.SlotCount), Geometry.SlotStride);
        if (Posix.Pread(_fd, _slotHeader, slot) != _slotHeader.Length) return ReadStatus.Damaged;
        ulong before = BinaryPrimitives.ReadUInt64LittleEndian(_slotHeader);
        if ((before & 1) != 0)
        {
            Overruns++;
            return ReadStatus.Overrun;
        }
        ulong frameId = BinaryPrimitives.ReadUInt64LittleEndian(_slotHeader.AsSpan(ShmLayout.SlotFrameIdOffset));
        ulong capture = BinaryPrimitives.ReadUInt64LittleEndian(_slotHeader.AsSpan(ShmLayout.SlotCaptureNsOffset));
        ulong publish = BinaryPrimitives.ReadUInt64LittleEndian(_slotHeader.AsSpan(ShmLayout.SlotPublishNsOffset));
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(_slotHeader.AsSpan(ShmLayout.SlotCrcOffset));
        // The barriers order the kernel's copies too: they run on this thread, in program order.
        Thread.MemoryBarrier();
        if (Posix.Pread(_fd, mask[..Geometry.MaskBytes], slot + ShmLayout.SlotHeaderSize) != Geometry.MaskBytes) return ReadStatus.Damaged;
        Thread.MemoryBarrier();
        Span<byte> sequence = stackalloc byte[8];
        if (Posix.Pread(_fd, sequence, slot) != 8) return ReadStatus.Damaged;
        ulong after = BinaryPrimitives.ReadUInt64LittleEndian(sequence);
        if (after != before || frameId != id)
        {
            Overruns++;
            return ReadStatus.Overrun;
        }
        if (verifyChecksum && RingChecksum.Of(mask[..Geometry.MaskBytes], LayoutVersion) != crc)
        {
            ChecksumFailures++;
            return ReadStatus.ChecksumMismatch;
        }
        _lastFrameId = id;
        // Values are class ids 0..class_count-1 or 255 (no prediction): anything else is no class a consumer could look up.
        _invalid ??= System.Buffers.SearchValues.Create(Enumerable.Range(Geometry.ClassCount, Math.Max(0, 255 - Geometry.ClassCount)).Select(v => (byte)v).ToArray());
        if (mask[..Geometry.MaskBytes].ContainsAny(_invalid))
        {
            InvalidFrames++;
            return ReadStatus.InvalidValues;
        }
        frame = new MaskFrame(id, capture, publish, crc);
        return ReadStatus.Frame;
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>
/// A ring header checked field by field against layout version 1's limits and the file's size — the
/// one parser of untrusted header bytes, so that it can be fuzzed on its own (tests) and every reader
/// refuses the same things. Nothing is allocated from a header value before it has been checked.
/// </summary>
public sealed record RingHeader(RingGeometry Geometry, ulong Generation, string Model, string[] ClassNames, uint Version)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static RingHeader Parse(ReadOnlySpan<byte> h, long fileSize, string path)
    {
        static uint Read(ReadOnlySpan<byte> b, int o) => BinaryPrimitives.ReadUInt32LittleEndian(b[o..]);
        if (h.Length < ShmLayout.HeaderSize) throw new InvalidDataException($"'{path}': a ring header is {ShmLayout.HeaderSize} bytes, got {h.Length}.");
        if (BinaryPrimitives.ReadUInt64LittleEndian(h) != ShmLayout.Magic)
            throw new InvalidDataException($"'{path}' is not a DANNet Edge mask ring (no DNETMASK magic), or its writer is still creating it.");
        uint version = Read(h, ShmLayout.VersionOffset);
        if (version is < ShmLayout.OldestReadVersion or > ShmLayout.Version)
            throw new InvalidDataException($"'{path}' has ring layout version {version}; this reader reads versions {ShmLayout.OldestReadVersion} to " +
                $"{ShmLayout.Version}. Use a reader of the same release as the writer.");
        uint slots = Read(h, ShmLayout.SlotCountOffset), width = Read(h, ShmLayout.WidthOffset), height = Read(h, ShmLayout.HeightOffset), classes = Read(h, ShmLayout.ClassCountOffset);
        if (slots is < RingGeometry.MinSlots or > RingGeometry.MaxSlots)
            throw new InvalidDataException($"'{path}': slot_count {slots} is outside {RingGeometry.MinSlots}..{RingGeometry.MaxSlots}.");
        if (width is < 1 or > RingGeometry.MaxSide || height is < 1 or > RingGeometry.MaxSide)
            throw new InvalidDataException($"'{path}': mask size {width}x{height} is outside 1..{RingGeometry.MaxSide} per side.");
        if (classes is < 1 or > 255) throw new InvalidDataException($"'{path}': class_count {classes} is outside 1..255.");
        var geometry = new RingGeometry((int)slots, (int)width, (int)height, (int)classes);
        uint headerSize = Read(h, ShmLayout.HeaderSizeOffset), slotHeader = Read(h, ShmLayout.SlotHeaderSizeOffset), stride = Read(h, ShmLayout.SlotStrideOffset);
        if (headerSize != ShmLayout.HeaderSize || slotHeader != ShmLayout.SlotHeaderSize || stride != geometry.SlotStride
            || Read(h, ShmLayout.PixelFormatOffset) != ShmLayout.PixelFormatClassIds)
            throw new InvalidDataException($"'{path}': the header's sizes do not agree with layout version {version} (header {headerSize}, " +
                $"slot header {slotHeader}, stride {stride} where {geometry.SlotStride} is expected, pixel format {Read(h, ShmLayout.PixelFormatOffset)}).");
        if (fileSize < geometry.FileSize)
            throw new InvalidDataException($"'{path}' is {fileSize} bytes; its header describes {slots} slots of {width}x{height}, {geometry.FileSize} bytes: " +
                "truncated or forged; refused.");
        string model = Text(h.Slice(ShmLayout.ModelOffset, ShmLayout.ModelSize), "model", path);
        string[] names = Text(h.Slice(ShmLayout.ClassNamesOffset, ShmLayout.ClassNamesSize), "class_names", path).Split('\n');
        if (names.Length != classes) throw new InvalidDataException($"'{path}': class_names holds {names.Length} names for class_count {classes}.");
        return new RingHeader(geometry, BinaryPrimitives.ReadUInt64LittleEndian(h[ShmLayout.GenerationOffset..]), model, names, version);
    }

    private static string Text(ReadOnlySpan<byte> field, string name, string path)
    {
        int end = field.IndexOf((byte)0);
        if (end < 0) throw new InvalidDataException($"'{path}': the {name} field is not NUL-terminated.");
        try
        {
            return StrictUtf8.GetString(field[..end]);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDataException($"'{path}': the {name} field is not valid UTF-8.");
        }
    }
}
