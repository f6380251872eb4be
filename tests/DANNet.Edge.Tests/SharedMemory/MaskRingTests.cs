using System.Buffers.Binary;
using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Tests.SharedMemory;

/// <summary>The writer and reader in one process: contents, the header a foreign reader sees, and every refusal.</summary>
public sealed class MaskRingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-ring-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string RingPath => Path.Combine(_dir, "ring");

    internal static RingDescription Describe(int classes = 3) => new("test-model",
        Enumerable.Range(0, classes).Select(i => $"class {i}").ToArray(),
        Enumerable.Range(0, classes).Select(i => new DANNet.Edge.Contracts.Rgb((byte)(10 * i), (byte)(20 * i), (byte)(30 * i))).ToArray());

    [Fact]
    public void A_published_mask_reads_back_with_its_timestamps()
    {
        var geometry = new RingGeometry(3, 5, 4, 3);
        using var writer = MaskRingWriter.Create(RingPath, geometry, Describe());
        using var reader = MaskRingReader.Open(RingPath);
        var mask = new byte[20];
        Assert.Equal(ReadStatus.NoFrameYet, reader.TryReadLatest(mask, out _));

        var sent = Enumerable.Range(0, 20).Select(i => (byte)(i % 3)).ToArray();
        ulong capture = MonotonicClock.NowNs;
        Assert.Equal(1UL, writer.Publish(sent, capture));
        Assert.Equal(ReadStatus.Frame, reader.TryReadLatest(mask, out var frame));
        Assert.Equal(sent, mask);
        Assert.Equal(1UL, frame.FrameId);
        Assert.Equal(capture, frame.CaptureNs);
        Assert.True(frame.PublishNs >= capture);
        Assert.Equal(ReadStatus.NoNewFrame, reader.TryReadLatest(mask, out _));

        // Written in place: BeginFrame hands out the slot's own bytes.
        var slot = writer.BeginFrame();
        slot.Fill(2);
        Assert.Equal(2UL, writer.Commit(capture + 5));
        Assert.Equal(ReadStatus.Frame, reader.TryReadLatest(mask, out frame));
        Assert.All(mask, b => Assert.Equal(2, b));
        Assert.Equal(2UL, frame.FrameId);
        Assert.Equal(2UL, reader.FramesPublished);

        Assert.Equal(geometry, reader.Geometry);
        Assert.Equal("test-model", reader.Model);
        Assert.Equal(["class 0", "class 1", "class 2"], reader.ClassNames);
        Assert.Equal(new DANNet.Edge.Contracts.Rgb(20, 40, 60), reader.Palette[2]);
        Assert.Equal(Environment.ProcessId, reader.WriterPid);
        Assert.Equal(WriterState.Alive, reader.WriterStatus(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void The_bytes_on_disk_follow_the_spec()
    {
        var geometry = new RingGeometry(2, 3, 2, 3);
        using var writer = MaskRingWriter.Create(RingPath, geometry, Describe());
        writer.Publish([0, 1, 2, 2, 1, 0], 777);
        var bytes = File.ReadAllBytes(RingPath);
        Assert.Equal(4096 + 2 * 4096, bytes.Length);
        Assert.Equal("DNETMASK"u8.ToArray(), bytes[..8]);
        uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o));
        ulong U64(int o) => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(o));
        Assert.Equal([2u, 4096u, 2u, 4096u, 64u, 3u, 2u, 3u, 1u], new[] { U32(8), U32(12), U32(16), U32(20), U32(24), U32(28), U32(32), U32(36), U32(40) });
        Assert.Equal((uint)Environment.ProcessId, U32(44));
        Assert.NotEqual(0UL, U64(48));
        Assert.Equal(1UL, U64(64));
        Assert.Equal(1UL, U64(72));
        Assert.Equal(new byte[] { 10, 20, 30, 255 }, bytes[(128 + 4)..(128 + 8)]);
        Assert.Equal("test-model"u8.ToArray(), bytes[1152..(1152 + 10)]);
        Assert.Equal(0, bytes[1152 + 10]);
        Assert.Equal("class 0\nclass 1\nclass 2"u8.ToArray(), bytes[1216..(1216 + 23)]);
        // Frame 1 is in slot 0 at 4096: sequence 2 (written once), frame id, capture, crc, size, mask.
        Assert.Equal(2UL, U64(4096));
        Assert.Equal(1UL, U64(4096 + 8));
        Assert.Equal(777UL, U64(4096 + 16));
        var castagnoli = new System.IO.Hashing.Crc32(System.IO.Hashing.Crc32ParameterSet.Crc32C);
        castagnoli.Append(new byte[] { 0, 1, 2, 2, 1, 0 });
        Assert.Equal(castagnoli.GetCurrentHashAsUInt32(), U32(4096 + 32));   // layout 2: CRC-32C
        Assert.Equal(6u, U32(4096 + 36));
        Assert.Equal(new byte[] { 0, 1, 2, 2, 1, 0 }, bytes[(4096 + 64)..(4096 + 70)]);
        Assert.Equal(6u, U32(8192 + 36));   // slot 1 knows its size before its first frame
        Assert.Equal(0UL, U64(8192));
    }

    [Fact]
    public void A_second_live_writer_is_refused_and_a_stopped_one_replaced()
    {
        var geometry = new RingGeometry(2, 4, 4, 3);
        var first = MaskRingWriter.Create(RingPath, geometry, Describe());
        var ex = Assert.Throws<IOException>(() => MaskRingWriter.Create(RingPath, geometry, Describe()));
        Assert.Contains($"pid {Environment.ProcessId}", ex.Message);
        Assert.Contains(RingPath, ex.Message);

        using var reader = MaskRingReader.Open(RingPath);
        first.Dispose();
        Assert.Equal(WriterState.Stopped, reader.WriterStatus(TimeSpan.FromSeconds(5)));
        using var second = MaskRingWriter.Create(RingPath, geometry with { Width = 8 }, Describe());
        using var reopened = MaskRingReader.Open(RingPath);
        Assert.NotEqual(reader.Generation, reopened.Generation);
        Assert.Equal(8, reopened.Geometry.Width);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void A_silent_writer_is_reported_dead_after_the_timeout()
    {
        using var writer = MaskRingWriter.Create(RingPath, new RingGeometry(2, 4, 4, 3), Describe());
        using var reader = MaskRingReader.Open(RingPath);
        Thread.Sleep(50);
        Assert.Equal(WriterState.Dead, reader.WriterStatus(TimeSpan.FromTicks(1)));
        Assert.Equal(WriterState.Alive, reader.WriterStatus(TimeSpan.FromSeconds(5)));
    }

    [Theory]
    [InlineData("small", "smaller than a ring header")]
    [InlineData("magic", "no DNETMASK magic")]
    [InlineData("version", "layout version 9; this reader reads versions 1 to 2")]
    [InlineData("stride", "do not agree with layout version 2")]
    [InlineData("missing", "Is dannet-edge running")]
    public void Readers_refuse_what_they_cannot_read_naming_the_file(string damage, string message)
    {
        if (damage != "missing")
        {
            using (var w = MaskRingWriter.Create(RingPath, new RingGeometry(2, 4, 4, 3), Describe())) { }
            var bytes = File.ReadAllBytes(RingPath);
            switch (damage)
            {
                case "small": bytes = bytes[..100]; break;
                case "magic": bytes[0] = (byte)'X'; break;
                case "version": bytes[8] = 9; break;
                case "stride": bytes[20] = 1; break;
            }
            File.WriteAllBytes(RingPath, bytes);
        }
        var ex = Assert.ThrowsAny<Exception>(() => MaskRingReader.Open(RingPath));
        Assert.True(ex is InvalidDataException or FileNotFoundException, ex.GetType().Name);
        Assert.Contains(RingPath, ex.Message);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Bad_geometry_and_descriptions_are_refused_before_any_file_is_made()
    {
        Assert.Throws<ArgumentException>(() => MaskRingWriter.Create(RingPath, new RingGeometry(1, 4, 4, 3), Describe()));
        Assert.Throws<ArgumentException>(() => MaskRingWriter.Create(RingPath, new RingGeometry(2, 4, 4, 19), Describe()));
        Assert.Throws<DirectoryNotFoundException>(() => MaskRingWriter.Create(Path.Combine(_dir, "no", "such", "ring"), new RingGeometry(2, 4, 4, 3), Describe()));
        Assert.False(File.Exists(RingPath));
        using var writer = MaskRingWriter.Create(RingPath, new RingGeometry(2, 4, 4, 3), Describe());
        Assert.Throws<ArgumentException>(() => writer.Publish(new byte[15], 0));
    }
}

/// <summary>Layout 2's checksum, and layout 1 rings (CRC-32) still read by both readers.</summary>
[Collection(RingProcessCollection.Name)]
public sealed class RingChecksumTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-checksum-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static uint Castagnoli(ReadOnlySpan<byte> data)
    {
        var crc = new System.IO.Hashing.Crc32(System.IO.Hashing.Crc32ParameterSet.Crc32C);
        crc.Append(data);
        return crc.GetCurrentHashAsUInt32();
    }

    [Fact]
    public void Crc32C_agrees_with_an_independent_implementation_at_every_length_and_alignment()
    {
        var random = new Random(5);
        var data = new byte[960 * 540 + 17];
        random.NextBytes(data);
        Assert.Equal(0xE3069283u, RingChecksum.Crc32C("123456789"u8));   // the standard check value
        Assert.Equal(0u, RingChecksum.Crc32C([]));
        foreach (int length in Enumerable.Range(0, 800).Concat([1535, 1536, 1537, 4095, 65536, 130560, 960 * 540]))
            foreach (int offset in new[] { 0, 1, 7 })
            {
                var span = data.AsSpan(offset, length);
                uint expected = Castagnoli(span);
                Assert.True(expected == RingChecksum.Crc32C(span), $"length {length}, offset {offset}");
                Assert.True(expected == RingChecksum.Crc32CInLanes(span), $"lanes: length {length}, offset {offset}");
                // The folded path where this processor has it (AVX-512 VPCLMULQDQ); elsewhere it must refuse, not guess.
                if (length < RingChecksum.FoldedMinimum) continue;
                if (System.Runtime.Intrinsics.X86.Pclmulqdq.V512.IsSupported)
                    Assert.True(expected == RingChecksum.Crc32CFolded(span), $"folded: length {length}, offset {offset}");
                else Assert.Throws<PlatformNotSupportedException>(() => RingChecksum.Crc32CFolded(data.AsSpan(offset, length)));
            }
        Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(data), RingChecksum.Of(data, 1));
        Assert.Equal(Castagnoli(data), RingChecksum.Of(data, 2));
    }

    /// <summary>
    /// A ring of layout 1 (CRC-32 per slot, as the previous release wrote) reads in both readers, each mask checked with CRC-32; the same
    /// ring holding a CRC-32C is a checksum mismatch in both — the version, not a guess, decides the checksum.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_layout_1_ring_is_read_with_its_own_checksum_by_both_readers(bool crc32)
    {
        string path = Path.Combine(_dir, "v1");
        byte[] mask = [.. Enumerable.Range(0, 64 * 32).Select(i => (byte)(i % 19))];
        using (var writer = MaskRingWriter.Create(path, new RingGeometry(2, 64, 32, 19), DANNet.Edge.Tap.TestPattern.Description()))
        {
            writer.Publish(mask, 5);
            using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            Span<byte> field = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(field, 1);
            file.Position = ShmLayout.VersionOffset;
            file.Write(field);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(field, crc32 ? System.IO.Hashing.Crc32.HashToUInt32(mask) : Castagnoli(mask));
            file.Position = ShmLayout.HeaderSize + ShmLayout.SlotCrcOffset;
            file.Write(field);
            file.Flush();
            using var reader = MaskRingReader.Open(path);
            Assert.Equal(1u, reader.LayoutVersion);
            var buffer = new byte[mask.Length];
            Assert.Equal(crc32 ? ReadStatus.Frame : ReadStatus.ChecksumMismatch, reader.TryReadLatest(buffer, out _));
            if (crc32) Assert.Equal(mask, buffer);
            var (_, output) = RingProcesses.Python("--path", path, "--frames", "1", "--seconds", "2", "--json");
            using var summary = System.Text.Json.JsonDocument.Parse(output.Trim().Split('\n')[^1]);
            Assert.Equal(crc32 ? 1 : 0, summary.RootElement.GetProperty("framesRead").GetInt64());
            Assert.Equal(crc32, summary.RootElement.GetProperty("checksumFailures").GetInt64() == 0);
        }
    }
}
