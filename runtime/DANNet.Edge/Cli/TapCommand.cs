using DANNet.Edge.Configuration;
using System.CommandLine;
using System.Text.Json;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Tap;

namespace DANNet.Edge.Cli;

/// <summary><c>dannet-edge tap</c>: follow the mask ring from outside the daemon.</summary>
internal static class TapCommand
{

    /// <summary>The environment variable naming the ring owner readers trust (tap and the Python reader).</summary>
    public const string OwnerVariable = "DANNET_EDGE_RING_OWNER";

    public static Command Create()
    {
        var frames = new Option<long>("--frames", "-n") { Description = "Stop after this many frames (0: run until Ctrl+C or --seconds).", DefaultValueFactory = _ => 0 };
        var seconds = new Option<double>("--seconds") { Description = "Stop after this many seconds (0: no limit).", DefaultValueFactory = _ => 0 };
        var png = new Option<DirectoryInfo?>("--png") { Description = "Write frames as colour PNGs (mask-<frame id>.png) into this folder." };
        var every = new Option<int>("--every") { Description = "With --png: write every N-th frame read.", DefaultValueFactory = _ => 1 };
        var verify = new Option<bool>("--verify-pattern") { Description = "Check every frame against 'publish-test-pattern' masks, pixel by pixel (ring tests)." };
        var stale = new Option<double>("--stale-after") { Description = "Seconds without a heartbeat after which the writer counts as dead.", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Print only a JSON summary at the end." };
        var anyWriter = new Option<bool>("--any-writer") { Description = "Also read a ring whose writer has stopped or died (its last, old frames); by default tap waits for a live writer." };
        var owner = new Option<string?>("--owner") { Description = "The user (name or uid) whose ring to trust: the service user on a car, e.g. dannet " +
            "(default: $DANNET_EDGE_RING_OWNER, else your own user or root). A ring owned by anyone else is refused." };
        var camera = new Option<string?>("--camera") { Description = "Follow camera NAME's ring: <the folder of --path>/NAME (a daemon with " +
            "several cameras writes one ring each).", HelpName = "NAME" };
        var list = new Option<bool>("--list") { Description = "List the rings in the folder of --path (one per camera) and exit." };
        var command = new Command("tap", "Follow the shared-memory mask ring like any consumer: live per-frame stats (latency, skipped, overruns, " +
            "classes), optional colour PNGs, writer restart/death detection.")
        {
            SharedOptions.RingPath, camera, list, frames, seconds, png, every, verify, stale, json, anyWriter, owner,
        };
        command.SetAction((parse, cancel) =>
        {
            if (parse.GetValue(every) < 1 || parse.GetValue(frames) < 0 || parse.GetValue(seconds) < 0 || parse.GetValue(stale) <= 0)
            {
                Console.Error.WriteLine("error: --every must be at least 1, --frames and --seconds not negative, --stale-after positive.");
                return Task.FromResult(1);
            }
            RingTrust trust;
            try
            {
                string? who = parse.GetValue(owner) ?? Environment.GetEnvironmentVariable(OwnerVariable);
                trust = string.IsNullOrEmpty(who) ? new RingTrust() : RingTrust.Owner(who);
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return Task.FromResult(1);
            }
            string path = Path.GetFullPath(parse.GetValue(SharedOptions.RingPath)!);
            if (parse.GetValue(list)) return Task.FromResult(RingTap.List(Path.GetDirectoryName(path)!, trust, TimeSpan.FromSeconds(parse.GetValue(stale)), Console.Out));
            if (parse.GetValue(camera) is { } name)
            {
                if (!EdgeOptionsValidator.IsCameraName(name))
                {
                    Console.Error.WriteLine($"error: --camera '{name}' is not a camera name (1-32 of a-z, 0-9, '-' and '_').");
                    return Task.FromResult(1);
                }
                path = Path.Combine(Path.GetDirectoryName(path)!, name);
            }
            var options = new TapOptions(path, parse.GetValue(frames),
                parse.GetValue(seconds) > 0 ? TimeSpan.FromSeconds(parse.GetValue(seconds)) : null, parse.GetValue(png)?.FullName, parse.GetValue(every),
                parse.GetValue(verify), TimeSpan.FromSeconds(parse.GetValue(stale)), parse.GetValue(json), parse.GetValue(anyWriter), trust);
            // SIGINT and SIGTERM end the tap like --seconds does: the summary is still printed.
            using var stop = new StopSignals(cancel);
            return Task.FromResult(Run(options, Console.Out, stop.Token));
        });
        return command;
    }

    internal static int Run(TapOptions options, TextWriter output, CancellationToken cancel)
    {
        TapSummary summary;
        try
        {
            summary = new RingTap(options, output).Run(cancel);
        }
        catch (IOException ex) when (Directory.Exists(options.Path))
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
        }
        if (options.Json) output.WriteLine(JsonSerializer.Serialize(summary, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        else
            output.WriteLine($"read {summary.FramesRead} frames, skipped {summary.FramesSkipped}, overruns {summary.Overruns}, checksum failures {summary.ChecksumFailures}, " +
                (options.VerifyPattern ? $"pattern mismatches {summary.PatternMismatches}, " : "") +
                (summary.InvalidFrames > 0 ? $"invalid frames {summary.InvalidFrames} (values that are no class), " : "") +
                $"writer restarts {summary.WriterRestarts}, waits {summary.Waits}; publish→read mean {summary.MeanPublishToReadMs:F2} ms " +
                $"(max {summary.MaxPublishToReadMs:F2}); writer {summary.LastWriterState}");
        return summary.PatternMismatches == 0 && summary.ChecksumFailures == 0 && summary.InvalidFrames == 0 ? 0 : 2;
    }
}
