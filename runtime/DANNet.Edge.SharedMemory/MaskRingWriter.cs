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

    private MaskRingWriter(string path, RingGeometry geometry, MappedFile file, ulong generation)
    {
        Path = path;
        Geometry = geometry;
        _file = file;
        Generation = generation;
        _heartbeat = new Timer(_ => Beat(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    }

    public string Path { get; }
    public RingGeometry Geometry { get; }
    public ulong Generation { get; }

    /// <summary>Frames published so far.</summary>
    public ulong Published => _nextFrameId - 1;

    /// <summary>
    /// Creates the ring at <paramref name="path"/> (typically /dev/shm/dannet-edge): refuses when a
    /// live writer owns it, otherwise builds the new file under a temporary name and renames it into
    /// place, so a reader still mapping an old file sees that file's heartbeat stop.
    /// </summary>
    public static MaskRingWriter Create(string path, RingGeometry geometry, RingDescription description, TimeSpan? staleAfter = null)
    {
        geometry.Validate();
        if (description.ClassNames.Count != geometry.ClassCount || description.PaletteRgb.Count != geometry.ClassCount)
            throw new ArgumentException($"The ring describes {geometry.ClassCount} classes but got {description.ClassNames.Count} names and {description.PaletteRgb.Count} colours.");
        string full = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Cannot create the mask ring '{full}': folder '{dir}' does not exist.");
        RefuseIfLiveWriter(full, staleAfter ?? TimeSpan.FromSeconds(2));

        string temp = $"{full}.tmp-{Environment.ProcessId}";
        var stream = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        MappedFile? file = null;
        try
        {
            stream.SetLength(geometry.FileSize);
            file = MappedFile.Open(stream, writable: true);
            ulong generation = NewGeneration();
            WriteHeader(file, geometry, description, generation);
            File.Move(temp, full, overwrite: true);
            return new MaskRingWriter(full, geometry, file, generation);
        }
        catch
        {
            file?.Dispose();
            stream.Dispose();
            File.Delete(temp);
            throw;
        }
    }

    private static void RefuseIfLiveWriter(string path, TimeSpan staleAfter)
    {
        if (!File.Exists(path)) return;
        try
        {
            using var reader = MaskRingReader.Open(path);
            var status = reader.WriterStatus(staleAfter);
            if (status == WriterState.Alive)
                throw new IOException($"Another writer (pid {reader.WriterPid}) is publishing to '{path}'. Stop it first, or give this one another path.");
        }
        catch (InvalidDataException)
        {
            // Not a ring (or an older layout): it is replaced.
        }
    }

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
        for (int i = 0; i < d.PaletteRgb.Count; i++)
        {
            var (r, gr, b) = d.PaletteRgb[i];
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
            _file.WriteUInt32(slot + ShmLayout.SlotCrcOffset, Crc32.HashToUInt32(mask));
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

    private void Beat()
    {
        lock (_writeLock)
        {
            if (!_disposed) _file.WriteRelease(ShmLayout.HeartbeatOffset, MonotonicClock.NowNs);
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
            _file.WriteUInt32(ShmLayout.WriterPidOffset, 0);
            _file.Dispose();
        }
    }
}
