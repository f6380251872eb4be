namespace DANNet.Edge.SharedMemory;

/// <summary>
/// Byte offsets and sizes of the ring layout (docs/shm-layout.md is the specification; change
/// both together, and bump <see cref="Version"/> by its rules). Version 2 has version 1's bytes; its
/// slot checksum is CRC-32C instead of CRC-32 (<see cref="RingChecksum"/>). Readers read both.
/// </summary>
public static class ShmLayout
{
    /// <summary>ASCII "DNETMASK" read as a little-endian 64-bit integer.</summary>
    public const ulong Magic = 0x4B53414D54454E44;
    /// <summary>The version this release writes.</summary>
    public const uint Version = 2;

    /// <summary>The oldest version this release reads.</summary>
    public const uint OldestReadVersion = 1;
    public const int HeaderSize = 4096;
    public const int SlotHeaderSize = 64;
    public const int SlotAlignment = 4096;
    public const uint PixelFormatClassIds = 1;
    public const int PaletteEntries = 256;

    // Header fields.
    public const int MagicOffset = 0;
    public const int VersionOffset = 8;
    public const int HeaderSizeOffset = 12;
    public const int SlotCountOffset = 16;
    public const int SlotStrideOffset = 20;
    public const int SlotHeaderSizeOffset = 24;
    public const int WidthOffset = 28;
    public const int HeightOffset = 32;
    public const int ClassCountOffset = 36;
    public const int PixelFormatOffset = 40;
    public const int WriterPidOffset = 44;
    public const int GenerationOffset = 48;
    public const int HeartbeatOffset = 56;
    public const int LatestFrameIdOffset = 64;
    public const int FramesPublishedOffset = 72;
    public const int FramesDroppedOffset = 80;
    public const int CreatedUnixNsOffset = 88;
    public const int PaletteOffset = 128;
    public const int PaletteSize = PaletteEntries * 4;
    public const int ModelOffset = 1152;
    public const int ModelSize = 64;
    public const int ClassNamesOffset = 1216;
    public const int ClassNamesSize = DANNet.Edge.Contracts.ModelContract.MaxClassNamesBytes;

    // Slot header fields (relative to the slot's start).
    public const int SlotSequenceOffset = 0;
    public const int SlotFrameIdOffset = 8;
    public const int SlotCaptureNsOffset = 16;
    public const int SlotPublishNsOffset = 24;
    public const int SlotCrcOffset = 32;
    public const int SlotMaskBytesOffset = 36;

    /// <summary>Bytes from one slot to the next for a <paramref name="width"/>×<paramref name="height"/> mask.</summary>
    public static int SlotStride(int width, int height)
    {
        long raw = SlotHeaderSize + (long)width * height;
        long stride = (raw + SlotAlignment - 1) / SlotAlignment * SlotAlignment;
        if (stride > int.MaxValue) throw new ArgumentException($"A {width}x{height} mask is too large for one slot.");
        return (int)stride;
    }

    /// <summary>Total file size for a ring of <paramref name="slots"/> slots.</summary>
    public static long FileSize(int slots, int width, int height) => HeaderSize + (long)slots * SlotStride(width, height);

    /// <summary>Offset of slot <paramref name="index"/> in the file.</summary>
    public static long SlotOffset(int index, int stride) => HeaderSize + (long)index * stride;
}
