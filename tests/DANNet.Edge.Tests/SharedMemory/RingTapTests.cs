using DANNet.Edge.Cli;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Tap;

namespace DANNet.Edge.Tests.SharedMemory;

public sealed class RingTapTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-tap-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void A_ring_left_by_a_stopped_writer_is_not_read_as_live_unless_asked()
    {
        string path = Path.Combine(_dir, "ring");
        using (var writer = MaskRingWriter.Create(path, new RingGeometry(2, 8, 4, 19), DANNet.Edge.Tap.TestPattern.Description()))
            Assert.Equal(1UL, TestPattern.PublishNext(writer));
        var text = new StringWriter();
        var waited = new RingTap(new TapOptions(path, Duration: TimeSpan.FromMilliseconds(300)), text).Run(CancellationToken.None);
        Assert.Equal(0, waited.FramesRead);
        Assert.Contains("waiting for a live writer", text.ToString());
        Assert.Contains("its writer is stopped", text.ToString());

        string pngs = Path.Combine(_dir, "png");
        var old = new RingTap(new TapOptions(path, Frames: 1, Duration: TimeSpan.FromSeconds(5), PngDir: pngs, VerifyPattern: true, AnyWriter: true), new StringWriter()).Run(CancellationToken.None);
        Assert.Equal(1, old.FramesRead);
        Assert.Equal(0, old.PatternMismatches);
        Assert.True(File.Exists(Path.Combine(pngs, "mask-00000001.png")));
    }

    /// <summary>
    /// Round 2, item 16: with --any-writer on a stopped writer tap reads the last frame and ends (it waited forever for more);
    /// a folder as --path is refused at once (it waited forever); memory does not grow per frame (constant running figures).
    /// </summary>
    [Fact]
    public void A_stopped_writers_last_frame_ends_the_tap_and_a_folder_is_refused_at_once()
    {
        string path = Path.Combine(_dir, "ring");
        using (var writer = MaskRingWriter.Create(path, new RingGeometry(2, 8, 4, 19), DANNet.Edge.Tap.TestPattern.Description()))
            for (int i = 0; i < 3; i++) TestPattern.PublishNext(writer);
        var text = new StringWriter();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = new RingTap(new TapOptions(path, Frames: 10, AnyWriter: true), text).Run(CancellationToken.None);
        Assert.Equal(1, last.FramesRead);
        Assert.Equal("stopped", last.LastWriterState);
        Assert.Contains("its last frames were read, no more will come", text.ToString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the tap did not end"); // a hang guard, not a timing claim

        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(2, TapCommand.Run(new TapOptions(_dir, Frames: 1), new StringWriter(), CancellationToken.None));
        }
        finally { Console.SetError(original); }
        Assert.Contains($"'{_dir}' is a folder, not a ring", error.ToString());
    }

    /// <summary>Round 2, item 16: following a ring allocates nothing per frame once running (it kept two lists of every frame's latency).</summary>
    [Fact]
    public void Following_a_ring_does_not_grow_memory_per_frame()
    {
        string path = Path.Combine(_dir, "ring");
        using var writer = MaskRingWriter.Create(path, new RingGeometry(2, 8, 4, 19), DANNet.Edge.Tap.TestPattern.Description());
        using var stop = new CancellationTokenSource();
        var publisher = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                TestPattern.PublishNext(writer);
                Thread.Sleep(1);
            }
        });
        publisher.Start();
        long Allocated(int frames)
        {
            // --json: no progress line every 250 ms, whose text is allocated by time, not by frame.
            var tap = new RingTap(new TapOptions(path, Frames: frames, Duration: TimeSpan.FromSeconds(60), Json: true), TextWriter.Null);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Equal(frames, tap.Run(CancellationToken.None).FramesRead);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Allocated(20);   // warm-up
        long few = Allocated(50), many = Allocated(1050);
        stop.Cancel();
        publisher.Join();
        // Two lists of every frame's latency cost at least 16 bytes a frame (two doubles, more with their growth); what
        // remains is the writer check every 200 ms, allocated by time, not by frame.
        Assert.True(many - few < 1000 * 8, $"1000 more frames allocated {many - few} more bytes");
    }
}
