using DANNet.Model;
using System.CommandLine;
using DANNet.Edge.Contracts;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Tap;

namespace DANNet.Edge.Cli;

/// <summary><c>dannet-edge publish-test-pattern</c>: a writer without a model, for testing readers.</summary>
internal static class PublishTestPatternCommand
{
    public static Command Create()
    {
        var width = new Option<int>("--width") { Description = "Mask width.", DefaultValueFactory = _ => 480 };
        var height = new Option<int>("--height") { Description = "Mask height.", DefaultValueFactory = _ => 272 };
        var slots = new Option<int>("--slots") { Description = "Ring slots.", DefaultValueFactory = _ => 4 };
        var frames = new Option<long>("--frames", "-n") { Description = "Frames to publish (0: until Ctrl+C or --seconds).", DefaultValueFactory = _ => 0 };
        var seconds = new Option<double>("--seconds") { Description = "Stop after this many seconds (0: no limit).", DefaultValueFactory = _ => 0 };
        var fps = new Option<double>("--fps") { Description = "Frames per second (0: as fast as possible).", DefaultValueFactory = _ => 30 };
        var mode = new Option<string>("--mode") { Description = "The ring's permission bits, octal (as Output:Mode).", DefaultValueFactory = _ => "0640" };
        var group = new Option<string?>("--group") { Description = "The readers' group (as Output:Group; default: your own)." };
        var command = new Command("publish-test-pattern", "Publish synthetic masks (each frame a distinct pattern) to the ring, to test readers and 'tap --verify-pattern' without a model or camera.")
        {
            SharedOptions.RingPath, width, height, slots, frames, seconds, fps, mode, group,
        };
        command.SetAction((parse, cancel) =>
        {
            try
            {
                var geometry = new RingGeometry(parse.GetValue(slots), parse.GetValue(width), parse.GetValue(height), CityscapesClasses.Count);
                string bits = parse.GetValue(mode)!;
                if (bits.Length is < 3 or > 4 || !bits.All(c => c is >= '0' and <= '7')) throw new ArgumentException($"--mode '{bits}' must be octal, e.g. 0640.");
                var access = new RingAccess(Convert.ToUInt32(bits, 8), parse.GetValue(group));
                long published = TestPattern.Publish(parse.GetValue(SharedOptions.RingPath)!, geometry, parse.GetValue(frames),
                    parse.GetValue(seconds) > 0 ? TimeSpan.FromSeconds(parse.GetValue(seconds)) : null, parse.GetValue(fps), cancel, access);
                Console.WriteLine($"published {published} test-pattern frames to {parse.GetValue(SharedOptions.RingPath)}");
                return Task.FromResult(0);
            }
            catch (Exception ex) when (CommandErrors.IsFixable(ex))
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }
}
