using System.Diagnostics;
using System.Text.Json;
using DANNet.Edge.Cli;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Tap;
using Xunit.Abstractions;

namespace DANNet.Edge.Tests.SharedMemory;

/// <summary>
/// The ring across processes: the writer here, readers as separate processes (<c>dannet-edge tap</c>
/// and the Python reader), as consumers in the car would be.
/// </summary>
[Collection(RingProcessCollection.Name)]
public sealed class RingProcessTests(ITestOutputHelper output) : RingFolderTests("dannet-ring-proc-")
{
    private string RingPath => Path.Combine(Dir, "ring");

    private Process Tap(params string[] args) => RingProcesses.Tap(RingPath, args);

    private static JsonElement Summary(Process p) => RingProcesses.LastJson(RingProcesses.Finish(p).Output);

    /// <summary>Publishes test-pattern frames as fast as possible until <paramref name="stop"/>; returns the count.</summary>
    private static long Hammer(MaskRingWriter writer, Func<bool> stop)
    {
        long n = 0;
        while (!stop())
        {
            TestPattern.PublishNext(writer);
            n++;
        }
        return n;
    }

    [Fact]
    public void Several_reader_processes_under_sustained_load_never_accept_a_torn_frame()
    {
        // Two slots of 960x540: the writer laps slow readers all the time, so overruns really happen.
        using var writer = MaskRingWriter.Create(RingPath, new RingGeometry(2, 960, 540, 19), DANNet.Edge.Tap.TestPattern.Description());
        var readers = Enumerable.Range(0, 3).Select(_ => Tap("--seconds", "3", "--verify-pattern", "--json")).ToList();
        var python = RingProcesses.Start("python3", RingProcesses.PythonReader, "--path", RingPath, "--seconds", "3", "--verify-pattern", "--json");
        var clock = Stopwatch.StartNew();
        long published = Hammer(writer, () => readers.All(r => r.HasExited) && python.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60));

        long totalRead = 0, totalOverruns = 0;
        foreach (var r in readers)
        {
            var s = Summary(r);
            output.WriteLine($"tap: {s}");
            Assert.Equal(0, s.GetProperty("patternMismatches").GetInt64());
            Assert.Equal(0, s.GetProperty("checksumFailures").GetInt64());
            Assert.True(s.GetProperty("framesRead").GetInt64() > 10);
            totalRead += s.GetProperty("framesRead").GetInt64();
            totalOverruns += s.GetProperty("overruns").GetInt64();
        }
        var py = Summary(python);
        output.WriteLine($"python: {py}");
        Assert.Equal(0, py.GetProperty("patternMismatches").GetInt64());
        Assert.Equal(0, py.GetProperty("checksumFailures").GetInt64());
        Assert.True(py.GetProperty("framesRead").GetInt64() > 10);
        output.WriteLine($"writer published {published} frames; C# readers read {totalRead}, discarded {totalOverruns} overrun copies");
        Assert.True(published > totalRead / 3);
    }

    [Fact]
    public async Task A_stopped_reader_does_not_hold_up_the_writer()
    {
        using var writer = MaskRingWriter.Create(RingPath, new RingGeometry(4, 480, 272, 19), DANNet.Edge.Tap.TestPattern.Description());
        var reader = Tap("--seconds", "30", "--frames", "400", "--verify-pattern");
        try
        {
            // Publish slowly until the reader has printed a live line: it is mapped and reading.
            var ready = reader.StandardOutput.ReadLineAsync();
            while (!ready.IsCompleted)
            {
                TestPattern.PublishNext(writer);
                Thread.Sleep(5);
            }
            Signal(reader.Id, "STOP");
            ulong before = writer.Published;
            // The writer never looks at readers: 2000 frames go out while this one is frozen mid-whatever.
            var publishing = Task.Run(() => { for (int i = 0; i < 2000; i++) TestPattern.PublishNext(writer); });
            Assert.True(await Task.WhenAny(publishing, Task.Delay(TimeSpan.FromSeconds(60))) == publishing, "the writer blocked while a reader was stopped");
            Assert.Equal(before + 2000, writer.Published);
            Signal(reader.Id, "CONT");
            var clock = Stopwatch.StartNew();
            Hammer(writer, () => { Thread.Sleep(2); return reader.HasExited || clock.Elapsed > TimeSpan.FromSeconds(40); });
            string rest = reader.StandardOutput.ReadToEnd();
            reader.WaitForExit();
            output.WriteLine(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last());
            Assert.Equal(0, reader.ExitCode);
            Assert.Contains("pattern mismatches 0", rest);
        }
        finally
        {
            if (!reader.HasExited) { Signal(reader.Id, "CONT"); reader.Kill(); }
        }
    }

    [Fact]
    public void A_restarted_writer_is_detected_and_followed()
    {
        var geometry = new RingGeometry(3, 64, 32, 19);
        var first = MaskRingWriter.Create(RingPath, geometry, DANNet.Edge.Tap.TestPattern.Description());
        var reader = Tap("--seconds", "4", "--verify-pattern", "--json");
        var clock = Stopwatch.StartNew();
        Hammer(first, () => { Thread.Sleep(2); return clock.Elapsed > TimeSpan.FromSeconds(1.2); });
        ulong firstGeneration = first.Generation;
        first.Dispose();
        using var second = MaskRingWriter.Create(RingPath, geometry with { Width = 96 }, DANNet.Edge.Tap.TestPattern.Description());
        Assert.NotEqual(firstGeneration, second.Generation);
        Hammer(second, () => { Thread.Sleep(2); return reader.HasExited || clock.Elapsed > TimeSpan.FromSeconds(30); });
        var s = Summary(reader);
        output.WriteLine(s.ToString());
        Assert.Equal(1, s.GetProperty("writerRestarts").GetInt64());
        Assert.Equal(0, s.GetProperty("patternMismatches").GetInt64());
        Assert.Equal("alive", s.GetProperty("lastWriterState").GetString());
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill!.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}

/// <summary>Process tests run alone: they measure nothing, but they load both cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RingProcessCollection
{
    public const string Name = "ring processes";
}
