using System.Buffers.Binary;
using System.Text;
using DANNet.Edge.Cli;
using DANNet.Edge.SharedMemory;
using Xunit.Abstractions;

namespace DANNet.Edge.Tests.SharedMemory;

/// <summary>
/// Both readers' header parsers (C# <see cref="RingHeader"/>, Python <c>parse_header</c>) on thousands of
/// random and mutated headers: each is accepted with a geometry that fits the file, or refused with a
/// message — never another exception, a hang or an allocation beyond what the file holds.
/// </summary>
public sealed class RingHeaderFuzzTests(ITestOutputHelper log)
{
    private const int Cases = 5000;

    /// <summary>A header exactly as the writer makes it.</summary>
    internal static byte[] ValidHeader(RingGeometry g)
    {
        string dir = Directory.CreateTempSubdirectory("dannet-fuzz-").FullName;
        try
        {
            string path = Path.Combine(dir, "ring");
            using (var writer = MaskRingWriter.Create(path, g, DANNet.Edge.Tap.TestPattern.Description())) { }
            return File.ReadAllBytes(path)[..ShmLayout.HeaderSize];
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>Case <paramref name="i"/>: a valid header mutated (fields set to edge values, bytes flipped, text fields filled), or random bytes behind the magic.</summary>
    internal static (byte[] Header, long FileSize) Case(byte[] valid, int i)
    {
        var random = new Random(1000 + i);
        var h = (byte[])valid.Clone();
        uint[] edges = [0, 1, 2, 3, 127, 255, 256, 1023, 1024, 1025, 4096, 16383, 16384, 16385, 32768, 65535, 0x7FFFFFFF, 0x80000000, uint.MaxValue];
        int[] fields = [ShmLayout.VersionOffset, ShmLayout.HeaderSizeOffset, ShmLayout.SlotCountOffset, ShmLayout.SlotStrideOffset,
            ShmLayout.SlotHeaderSizeOffset, ShmLayout.WidthOffset, ShmLayout.HeightOffset, ShmLayout.ClassCountOffset, ShmLayout.PixelFormatOffset];
        switch (i % 4)
        {
            case 0:
                for (int k = random.Next(1, 4); k > 0; k--)
                    BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(fields[random.Next(fields.Length)]), edges[random.Next(edges.Length)]);
                break;
            case 1:
                for (int k = random.Next(1, 40); k > 0; k--) h[random.Next(h.Length)] ^= (byte)(1 << random.Next(8));
                break;
            case 2:
                random.NextBytes(h.AsSpan(ShmLayout.ModelOffset, random.Next(1, ShmLayout.ModelSize + ShmLayout.ClassNamesSize)));
                break;
            default:
                random.NextBytes(h.AsSpan(8));
                break;
        }
        long size = random.Next(4) switch { 0 => ShmLayout.HeaderSize, 1 => 20_000, 2 => 1L << 20, _ => random.NextInt64(ShmLayout.HeaderSize, 1L << 40) };
        return (h, size);
    }

    [Fact]
    public void The_csharp_parser_accepts_only_headers_that_fit_their_file_and_refuses_the_rest_with_a_message()
    {
        var valid = ValidHeader(new RingGeometry(3, 64, 32, 19));
        int accepted = 0;
        for (int i = 0; i < Cases; i++)
        {
            var (h, size) = Case(valid, i);
            try
            {
                var header = RingHeader.Parse(h, size, "fuzz");
                Assert.True(header.Geometry.FileSize <= size, $"case {i}: accepted a geometry of {header.Geometry.FileSize} bytes in a {size}-byte file");
                Assert.Equal(header.Geometry.ClassCount, header.ClassNames.Length);
                accepted++;
            }
            catch (InvalidDataException ex)
            {
                Assert.StartsWith("'fuzz'", ex.Message);
            }
        }
        log.WriteLine($"{Cases} headers: {accepted} accepted, {Cases - accepted} refused");
        Assert.InRange(accepted, 1, Cases - 1); // the generator makes both kinds, so both paths are exercised
    }

    [Fact]
    public void The_python_parser_does_the_same_on_the_same_cases_within_its_memory()
    {
        var valid = ValidHeader(new RingGeometry(3, 64, 32, 19));
        string dir = Directory.CreateTempSubdirectory("dannet-fuzz-py-").FullName;
        try
        {
            // One file of cases (size, header) for one Python process; it reports accepted/refused/other and its peak memory growth.
            string cases = Path.Combine(dir, "cases.bin");
            var expected = new List<bool>();
            var prefix = new byte[8];
            using (var file = new FileStream(cases, FileMode.CreateNew))
                for (int i = 0; i < Cases; i++)
                {
                    var (h, size) = Case(valid, i);
                    BinaryPrimitives.WriteInt64LittleEndian(prefix, size);
                    file.Write(prefix);
                    file.Write(h);
                    bool ok;
                    try { RingHeader.Parse(h, size, "fuzz"); ok = true; }
                    catch (InvalidDataException) { ok = false; }
                    expected.Add(ok);
                }
            string script = Path.Combine(dir, "fuzz.py");
            File.WriteAllText(script, $$"""
                import resource, struct, sys
                sys.path.insert(0, {{Quote(Path.GetDirectoryName(RingProcesses.PythonReader)!)}})
                import dannet_edge_shm as shm
                before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                verdicts, other = [], []
                with open({{Quote(cases)}}, "rb") as f:
                    data = f.read()
                for i in range(len(data) // (8 + shm.HEADER_SIZE)):
                    base = i * (8 + shm.HEADER_SIZE)
                    size = struct.unpack_from("<q", data, base)[0]
                    h = data[base + 8:base + 8 + shm.HEADER_SIZE]
                    try:
                        info = shm.parse_header(h, size, "fuzz")
                        assert shm.HEADER_SIZE + info["slot_count"] * info["slot_stride"] <= size
                        verdicts.append("1")
                    except shm.RingError:
                        verdicts.append("0")
                    except Exception as e:
                        other.append(f"{i}: {type(e).__name__}: {e}")
                        verdicts.append("x")
                growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
                print("".join(verdicts))
                print(growth)
                print("\n".join(other))
                """);
            var (code, output) = RingProcesses.Finish(RingProcesses.Start("python3", script));
            Assert.True(code == 0, output);
            var lines = output.Split('\n');
            Assert.Equal(string.Concat(expected.Select(e => e ? "1" : "0")), lines[0]); // same verdict as the C# parser, case by case, no other exception
            long growthKb = long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture);
            log.WriteLine($"python: {expected.Count(e => e)} accepted; peak memory grew {growthKb} KB");
            // The parser keeps nothing sized by the header: growth stays far below one forged 16384x16384 mask (268 MB).
            Assert.InRange(growthKb, 0, 64 * 1024);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
