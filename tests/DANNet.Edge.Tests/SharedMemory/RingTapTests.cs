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
        using (var writer = MaskRingWriter.Create(path, new RingGeometry(2, 8, 4, 19), PublishTestPatternCommand.Description()))
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
}
