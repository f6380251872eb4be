using System.IO.Hashing;
using System.Text;

namespace DANNet.Edge.SharedMemory;

/// <summary>
/// A reader of a mask ring (docs/shm-layout.md), in any process: maps the file read-only and
/// never blocks or slows the writer. Torn copies are detected by the slot's seqlock sequence
/// (and a CRC-32) and discarded; a restarted writer by the generation; a dead one by the heartbeat.
/// </summary>
public sealed class MaskRingReader : IDisposable
{
    private readonly MappedFile _file;
    private ulong _lastFrameId;

    private MaskRingReader(string path, MappedFile file, RingGeometry geometry, ulong generation, string model, string[] classNames, (byte, byte, byte)[] palette)
    {
        Path = path;
        _file = file;
        Geometry = geometry;
        Generation = generation;
        Model = model;
        ClassNames = classNames;
        PaletteRgb = palette;
    }

    public string Path { get; }
    public RingGeometry Geometry { get; }

    /// <summary>The writer generation this reader was opened on.</summary>
    public ulong Generation { get; }

    public string Model { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public IReadOnlyList<(byte R, byte G, byte B)> PaletteRgb { get; }

    /// <summary>Reads that found the slot rewritten under them.</summary>
    public long Overruns { get; private set; }

    /// <summary>Reads whose mask did not match its checksum.</summary>
    public long ChecksumFailures { get; private set; }

    public int WriterPid => (int)_file.ReadUInt32(ShmLayout.WriterPidOffset);
    public ulong LatestFrameId => _file.ReadAcquire(ShmLayout.LatestFrameIdOffset);
    public ulong FramesPublished => _file.ReadAcquire(ShmLayout.FramesPublishedOffset);
    public ulong FramesDropped => _file.ReadAcquire(ShmLayout.FramesDroppedOffset);
    public ulong CurrentGeneration => _file.ReadAcquire(ShmLayout.GenerationOffset);

    /// <summary>Time since the writer's last heartbeat.</summary>
    public TimeSpan HeartbeatAge
    {
        get
        {
            ulong beat = _file.ReadAcquire(ShmLayout.HeartbeatOffset), now = MonotonicClock.NowNs;
            return TimeSpan.FromTicks(now > beat ? (long)((now - beat) / 100) : 0);
        }
    }

    /// <summary>Opens the ring at <paramref name="path"/>, checking its magic, version and geometry.</summary>
    public static MaskRingReader Open(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"No mask ring at '{full}'. Is dannet-edge running (and publishing to this path)?", full);
        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long length = stream.Length;
        if (length < ShmLayout.HeaderSize)
        {
            stream.Dispose();
            throw new InvalidDataException($"'{full}' is {length} bytes, smaller than a ring header ({ShmLayout.HeaderSize}); not a DANNet Edge mask ring.");
        }
        var file = MappedFile.Open(stream, writable: false);
        try
        {
            return Validate(full, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static MaskRingReader Validate(string path, MappedFile f)
    {
        if (f.ReadAcquire(ShmLayout.MagicOffset) != ShmLayout.Magic)
            throw new InvalidDataException($"'{path}' is not a DANNet Edge mask ring (no DNETMASK magic), or its writer is still creating it.");
        uint version = f.ReadUInt32(ShmLayout.VersionOffset);
        if (version != ShmLayout.Version)
            throw new InvalidDataException($"'{path}' has ring layout version {version}; this reader reads version {ShmLayout.Version}. Use a reader of the same release as the writer.");
        uint headerSize = f.ReadUInt32(ShmLayout.HeaderSizeOffset), slotHeader = f.ReadUInt32(ShmLayout.SlotHeaderSizeOffset);
        var geometry = new RingGeometry((int)f.ReadUInt32(ShmLayout.SlotCountOffset), (int)f.ReadUInt32(ShmLayout.WidthOffset),
            (int)f.ReadUInt32(ShmLayout.HeightOffset), (int)f.ReadUInt32(ShmLayout.ClassCountOffset));
        try { geometry.Validate(); }
        catch (ArgumentException ex) { throw new InvalidDataException($"'{path}': {ex.Message}", ex); }
        if (headerSize != ShmLayout.HeaderSize || slotHeader != ShmLayout.SlotHeaderSize || f.ReadUInt32(ShmLayout.SlotStrideOffset) != geometry.SlotStride
            || f.ReadUInt32(ShmLayout.PixelFormatOffset) != ShmLayout.PixelFormatClassIds || f.Length < geometry.FileSize)
            throw new InvalidDataException($"'{path}': the header's sizes do not agree with layout version {ShmLayout.Version} (header {headerSize}, " +
                $"slot header {slotHeader}, stride {f.ReadUInt32(ShmLayout.SlotStrideOffset)}, file {f.Length} bytes for {geometry}).");

        string model = ReadText(f.Bytes(ShmLayout.ModelOffset, ShmLayout.ModelSize));
        string[] names = ReadText(f.Bytes(ShmLayout.ClassNamesOffset, ShmLayout.ClassNamesSize)).Split('\n');
        var palette = new (byte, byte, byte)[geometry.ClassCount];
        var p = f.Bytes(ShmLayout.PaletteOffset, ShmLayout.PaletteSize);
        for (int i = 0; i < palette.Length; i++) palette[i] = (p[4 * i], p[4 * i + 1], p[4 * i + 2]);
        return new MaskRingReader(path, f, geometry, f.ReadAcquire(ShmLayout.GenerationOffset), model, names, palette);
    }

    private static string ReadText(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    /// <summary>Whether the writer is alive: its pid is set and running, and its heartbeat is younger than <paramref name="staleAfter"/>.</summary>
    public WriterState WriterStatus(TimeSpan staleAfter)
    {
        int pid = WriterPid;
        if (pid == 0) return WriterState.Stopped;
        if (HeartbeatAge > staleAfter || (OperatingSystem.IsLinux() && !Directory.Exists($"/proc/{pid}"))) return WriterState.Dead;
        return WriterState.Alive;
    }

    /// <summary>
    /// Copies the newest frame into <paramref name="mask"/> (width·height bytes) if it is newer than
    /// the last one returned. Never waits: a frame being rewritten under the copy is reported as
    /// <see cref="ReadStatus.Overrun"/> and discarded.
    /// </summary>
    public ReadStatus TryReadLatest(Span<byte> mask, out MaskFrame frame, bool verifyChecksum = true)
    {
        frame = default;
        if (mask.Length < Geometry.MaskBytes) throw new ArgumentException($"The destination holds {mask.Length} bytes; a mask has {Geometry.MaskBytes}.");
        if (CurrentGeneration != Generation) return ReadStatus.WriterRestarted;
        ulong id = LatestFrameId;
        if (id == 0) return ReadStatus.NoFrameYet;
        if (id == _lastFrameId) return ReadStatus.NoNewFrame;

        long slot = ShmLayout.SlotOffset((int)((id - 1) % (ulong)Geometry.SlotCount), Geometry.SlotStride);
        ulong before = _file.ReadAcquire(slot + ShmLayout.SlotSequenceOffset);
        if ((before & 1) != 0)
        {
            Overruns++;
            return ReadStatus.Overrun;
        }
        ulong frameId = _file.ReadUInt64(slot + ShmLayout.SlotFrameIdOffset);
        ulong capture = _file.ReadUInt64(slot + ShmLayout.SlotCaptureNsOffset);
        ulong publish = _file.ReadUInt64(slot + ShmLayout.SlotPublishNsOffset);
        uint crc = _file.ReadUInt32(slot + ShmLayout.SlotCrcOffset);
        _file.Bytes(slot + ShmLayout.SlotHeaderSize, Geometry.MaskBytes).CopyTo(mask);
        // Everything above must be read before the sequence is read again.
        Thread.MemoryBarrier();
        ulong after = _file.ReadAcquire(slot + ShmLayout.SlotSequenceOffset);
        if (after != before || frameId != id)
        {
            Overruns++;
            return ReadStatus.Overrun;
        }
        if (verifyChecksum && Crc32.HashToUInt32(mask[..Geometry.MaskBytes]) != crc)
        {
            ChecksumFailures++;
            return ReadStatus.ChecksumMismatch;
        }
        _lastFrameId = id;
        frame = new MaskFrame(id, capture, publish, crc);
        return ReadStatus.Frame;
    }

    public void Dispose() => _file.Dispose();
}
