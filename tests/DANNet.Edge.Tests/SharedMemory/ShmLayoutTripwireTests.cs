using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Tests.SharedMemory;

/// <summary>
/// Tripwires: every size and offset of docs/shm-layout.md restated here on purpose, as literal
/// numbers. Changing one in code fails here — then change the spec, the Python reader and, by the
/// versioning rules, the version too.
/// </summary>
public sealed class ShmLayoutTripwireTests
{
    [Fact]
    public void Header_fields_sit_where_the_spec_says()
    {
        Assert.Equal(0x4B53414D54454E44UL, ShmLayout.Magic);
        Assert.Equal("DNETMASK"u8.ToArray(), BitConverter.GetBytes(ShmLayout.Magic));
        Assert.Equal(2u, ShmLayout.Version);
        Assert.Equal(1u, ShmLayout.OldestReadVersion);
        Assert.Equal(4096, ShmLayout.HeaderSize);
        Assert.Equal(64, ShmLayout.SlotHeaderSize);
        Assert.Equal(4096, ShmLayout.SlotAlignment);
        Assert.Equal(1u, ShmLayout.PixelFormatClassIds);
        Assert.Equal(
            [0, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 56, 64, 72, 80, 88, 128, 1152, 1216],
            new[]
            {
                ShmLayout.MagicOffset, ShmLayout.VersionOffset, ShmLayout.HeaderSizeOffset, ShmLayout.SlotCountOffset,
                ShmLayout.SlotStrideOffset, ShmLayout.SlotHeaderSizeOffset, ShmLayout.WidthOffset, ShmLayout.HeightOffset,
                ShmLayout.ClassCountOffset, ShmLayout.PixelFormatOffset, ShmLayout.WriterPidOffset, ShmLayout.GenerationOffset,
                ShmLayout.HeartbeatOffset, ShmLayout.LatestFrameIdOffset, ShmLayout.FramesPublishedOffset, ShmLayout.FramesDroppedOffset,
                ShmLayout.CreatedUnixNsOffset, ShmLayout.PaletteOffset, ShmLayout.ModelOffset, ShmLayout.ClassNamesOffset,
            });
        Assert.Equal(1024, ShmLayout.PaletteSize);
        Assert.Equal(64, ShmLayout.ModelSize);
        Assert.Equal(2048, ShmLayout.ClassNamesSize);
        Assert.True(ShmLayout.ClassNamesOffset + ShmLayout.ClassNamesSize <= ShmLayout.HeaderSize);
    }

    [Fact]
    public void Slot_fields_sit_where_the_spec_says()
    {
        Assert.Equal([0, 8, 16, 24, 32, 36], new[]
        {
            ShmLayout.SlotSequenceOffset, ShmLayout.SlotFrameIdOffset, ShmLayout.SlotCaptureNsOffset,
            ShmLayout.SlotPublishNsOffset, ShmLayout.SlotCrcOffset, ShmLayout.SlotMaskBytesOffset,
        });
    }

    [Theory]
    [InlineData(480, 272, 131072)]     // 64 + 130560 = 130624 → 32 pages
    [InlineData(960, 540, 520192)]     // 64 + 518400 = 518464 → 127 pages
    [InlineData(1920, 1080, 2076672)]  // 64 + 2073600 → 507 pages
    [InlineData(1, 1, 4096)]
    [InlineData(4032, 1, 4096)]        // exactly one page with its header
    [InlineData(4033, 1, 8192)]
    public void Slot_stride_is_header_plus_mask_rounded_up_to_pages(int width, int height, int stride)
    {
        Assert.Equal(stride, ShmLayout.SlotStride(width, height));
        Assert.Equal(4096L + 4 * stride, ShmLayout.FileSize(4, width, height));
        Assert.Equal(4096L + 2 * stride, ShmLayout.SlotOffset(2, stride));
    }
}
