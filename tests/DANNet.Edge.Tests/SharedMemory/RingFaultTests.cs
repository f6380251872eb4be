using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using DANNet.Edge.Cli;
using DANNet.Edge.SharedMemory;
using Xunit.Abstractions;

namespace DANNet.Edge.Tests.SharedMemory;

/// <summary>
/// The ring when things go wrong: truncated under its readers and writer, forged headers, a writer
/// that dies and one that restarts, signals — for dannet-edge tap, the Python reader and the writer.
/// </summary>
[Collection(RingProcessCollection.Name)]
public sealed class RingFaultTests(ITestOutputHelper log) : RingFolderTests("dannet-ring-fault-")
{
    private string Ring => Path.Combine(Dir, "masks");

    private Process Writer(params string[] args) =>
        RingProcesses.Start("dotnet", [RingProcesses.EdgeDll, "publish-test-pattern", "--path", Ring, "--width", "64", "--height", "32", .. args]);

    private Process Tap(params string[] args) => RingProcesses.Tap(Ring, args);

    private Process Python(params string[] args) => RingProcesses.Start("python3", [RingProcesses.PythonReader, "--path", Ring, .. args]);

    private void WaitForFrames(int count = 3)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var reader = MaskRingReader.Open(Ring);
                if (reader.LatestFrameId >= (ulong)count) return;
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException) { }
            Thread.Sleep(20);
        }
        Assert.Fail("the writer published nothing within 30 s");
    }

    [Fact]
    public void A_ring_truncated_under_readers_and_writer_is_reported_by_each_and_kills_none()
    {
        var writer = Writer("--fps", "200", "--seconds", "20");
        WaitForFrames();
        var tap = Tap("--seconds", "3", "--json");
        var tapText = Tap("--seconds", "3");
        var python = Python("--seconds", "3");
        RingProcesses.WaitUntilOpen(Ring, tap, tapText, python);
        Thread.Sleep(1000); // reading frames
        using (var file = new FileStream(Ring, FileMode.Open, FileAccess.Write)) file.SetLength(0);

        var w = RingProcesses.Finish(writer);
        log.WriteLine($"writer {w.Code}: {w.Output}");
        Assert.Equal(1, w.Code); // an error, not SIGBUS (135) or an access violation (134)
        Assert.Contains("was truncated to 0 bytes by another process", w.Output);

        var t = RingProcesses.Finish(tap);
        Assert.Equal(0, t.Code);
        var summary = RingProcesses.LastJson(t.Output);
        Assert.True(summary.GetProperty("framesRead").GetInt64() > 0);
        var text = RingProcesses.Finish(tapText);
        log.WriteLine($"tap: {text.Output}");
        Assert.Equal(0, text.Code);
        Assert.Equal(1, Count(text.Output, "was truncated or overwritten under this reader"));

        var p = RingProcesses.Finish(python);
        log.WriteLine($"python {p.Code}: {p.Output}");
        Assert.Equal(0, p.Code);
        Assert.Equal(1, Count(p.Output, "was truncated or overwritten under this reader"));
        Assert.DoesNotContain("Traceback", p.Output);
    }

    [Fact]
    public void A_dead_writer_is_reported_once_a_restarted_one_is_followed_and_the_limits_hold()
    {
        var first = Writer("--fps", "100", "--seconds", "60");
        WaitForFrames();
        // 8 s each: 1 s on the first writer, 3 s with a dead one, and the rest for the second to start (seconds on a busy machine).
        var tap = Tap("--seconds", "8", "--verify-pattern");
        var tapJson = Tap("--seconds", "8", "--verify-pattern", "--json");
        var python = Python("--seconds", "8", "--verify-pattern");
        var pythonJson = Python("--seconds", "8", "--verify-pattern", "--json");
        RingProcesses.WaitUntilOpen(Ring, tap, tapJson, python, pythonJson);
        Thread.Sleep(1000); // reading the first writer's frames
        first.Kill(); // SIGKILL: no clean shutdown, the pid stays in the ring until the heartbeat goes stale
        first.WaitForExit();
        Thread.Sleep(3000);
        var second = Writer("--fps", "100", "--seconds", "60");
        var readers = new[] { tap, tapJson, python, pythonJson }.Select(RingProcesses.Finish).ToList();
        second.Kill();
        second.WaitForExit();
        foreach (var (code, output) in readers) log.WriteLine($"{code}: {output}");
        Assert.All(readers, r => Assert.Equal(0, r.Code));
        // --seconds is a hard limit: all four ended by themselves while the second writer was still publishing.
        Assert.Equal(1, Count(readers[0].Output, "is dead; its frames are old"));
        Assert.Equal(1, Count(readers[2].Output, "is dead; its frames are old"));
        foreach (var json in new[] { RingProcesses.LastJson(readers[1].Output), RingProcesses.LastJson(readers[3].Output) })
        {
            Assert.Equal(1, json.GetProperty("writerRestarts").GetInt64());
            Assert.Equal(0, json.GetProperty("patternMismatches").GetInt64());
            Assert.Equal("alive", json.GetProperty("lastWriterState").GetString());
            // While no live writer was there (less than the readers' 8 s) they backed off, 10 ms doubling to 200 ms: at most
            // 6 waits to reach 200 ms and 8000 / 200 after — a busy loop would make thousands.
            Assert.InRange(json.GetProperty("waits").GetInt64(), 1, 6 + 8000 / 200);
        }
    }

    [Fact]
    public void Readers_stop_at_their_frame_and_time_limits_with_no_writer_at_all()
    {
        var tap = RingProcesses.Finish(Tap("--seconds", "1", "--frames", "5", "--json"));
        var python = RingProcesses.Finish(Python("--seconds", "1", "--frames", "5", "--json"));
        Assert.Equal(0, tap.Code);
        Assert.Equal(0, python.Code);
        Assert.Equal(0, RingProcesses.LastJson(tap.Output).GetProperty("framesRead").GetInt64());
        Assert.Equal("absent", RingProcesses.LastJson(python.Output).GetProperty("lastWriterState").GetString());
    }

    [Theory]
    [InlineData("SIGTERM")]
    [InlineData("SIGINT")]
    public void A_signal_ends_a_reader_with_its_summary(string signal)
    {
        var writer = Writer("--fps", "50", "--seconds", "30");
        WaitForFrames();
        var tap = Tap("--json");
        var python = Python("--json");
        RingProcesses.WaitUntilOpen(Ring, tap, python);
        Thread.Sleep(500); // reading frames
        foreach (var p in new[] { tap, python })
            using (var kill = Process.Start("kill", [$"-{signal[3..]}", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!) kill.WaitForExit();
        var results = new[] { tap, python }.Select(RingProcesses.Finish).ToList();
        writer.Kill();
        writer.WaitForExit();
        foreach (var (code, output) in results)
        {
            log.WriteLine($"{code}: {output}");
            Assert.Equal(0, code);
            Assert.True(RingProcesses.LastJson(output).GetProperty("framesRead").GetInt64() > 0);
            Assert.DoesNotContain("Traceback", output);
        }
    }

    [Fact]
    public void Garbage_over_a_live_header_makes_readers_wait_with_back_off_not_spin()
    {
        using var writer = MaskRingWriter.Create(Ring, new RingGeometry(2, 16, 8, 19), DANNet.Edge.Tap.TestPattern.Description());
        DANNet.Edge.Tap.TestPattern.PublishNext(writer);
        var tap = Tap("--seconds", "3", "--json");
        var python = Python("--seconds", "3", "--json");
        RingProcesses.WaitUntilOpen(Ring, tap, python);
        Thread.Sleep(300); // reading the frame
        using (var file = new FileStream(Ring, FileMode.Open, FileAccess.Write)) file.Write(Encoding.ASCII.GetBytes("garbage garbage garbage"));
        foreach (var (code, output) in new[] { tap, python }.Select(RingProcesses.Finish))
        {
            log.WriteLine(output);
            Assert.Equal(0, code);
            // Under 3 s of a broken header at 10 ms doubling to 200 ms: at most 6 + 3000 / 200 waits (a spinning reader makes thousands).
            Assert.InRange(RingProcesses.LastJson(output).GetProperty("waits").GetInt64(), 1, 6 + 3000 / 200);
        }
    }

    /// <summary>Headers crafted to make a reader hang, allocate gigabytes or crash (the cases), in files of this user's own folder.</summary>
    public static TheoryData<string, string> Forged => new()
    {
        { "classes", "class_count 4294967295 is outside 1..255" },
        { "huge", "mask size 32768x32768 is outside 1..16384" },
        { "sparse", "truncated or forged" },
        { "slots0", "slot_count 0 is outside 2..1024" },
        { "utf8", "the model field is not valid UTF-8" },
        { "names", "class_names holds 1 names for class_count 19" },
        { "stride", "do not agree with layout version 2" },
    };

    [Theory]
    [MemberData(nameof(Forged))]
    public void Forged_headers_are_refused_by_both_readers_before_they_allocate(string forgery, string message)
    {
        string path = Path.Combine(Dir, forgery);
        var g = new RingGeometry(2, 16, 8, 19);
        var h = RingHeaderFuzzTests.ValidHeader(g);
        long size = g.FileSize;
        switch (forgery)
        {
            case "classes": BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(ShmLayout.ClassCountOffset), uint.MaxValue); size = 20_000; break;
            case "huge":
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(ShmLayout.WidthOffset), 32768);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(ShmLayout.HeightOffset), 32768);
                size = 8192;
                break;
            case "sparse":
                // Within the limits (16384x16384, 2 slots) but the file holds 8 KB: the header describes 512 MB.
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(ShmLayout.WidthOffset), 16384);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(ShmLayout.HeightOffset), 16384);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(ShmLayout.SlotStrideOffset), (uint)ShmLayout.SlotStride(16384, 16384));
                size = 8192;
                break;
            case "slots0": BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(ShmLayout.SlotCountOffset), 0); break;
            case "utf8": h[ShmLayout.ModelOffset] = 0xC3; h[ShmLayout.ModelOffset + 1] = 0x28; break;
            case "names": h.AsSpan(ShmLayout.ClassNamesOffset, ShmLayout.ClassNamesSize).Clear(); Encoding.ASCII.GetBytes("road").CopyTo(h, ShmLayout.ClassNamesOffset); break;
            case "stride": BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(ShmLayout.SlotStrideOffset), 8192); break;
        }
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(h);
            file.SetLength(size);
        }
        var ex = Assert.Throws<InvalidDataException>(() => MaskRingReader.Open(path));
        Assert.Contains(message, ex.Message);
        Assert.Contains(path, ex.Message);
        var python = RingProcesses.Python("--path", path, "--seconds", "0.5", "--any-writer");
        Assert.Equal(0, python.Code);
        Assert.Contains(message, python.Output);
        Assert.DoesNotContain("Traceback", python.Output);
    }

    private static int Count(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
