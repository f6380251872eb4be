using DANNet.Model;
using System.Text.Json;
using DANNet.Edge.Configuration;
using DANNet.Edge.Replay;
using DANNet.Edge.Tests.SharedMemory;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace DANNet.Edge.Tests.Replay;

/// <summary>dannet-edge replay on short clips cut from the committed night drive: every frame, outputs, determinism, damage.</summary>
[Collection(RingProcessCollection.Name)]
public sealed class ReplayTests() : RingFolderTests("dannet-replay-")
{
    /// <summary>The first <paramref name="frames"/> frames of the night drive, as MJPG AVI.</summary>
    private string Clip(int frames, string name = "clip.avi")
    {
        string path = Path.Combine(Dir, name);
        using var capture = new VideoCapture(EdgeDefaults.VideoPath);
        using var writer = new VideoWriter(path, FourCC.MJPG, 15, new Size(640, 360));
        using var frame = new Mat();
        for (int i = 0; i < frames && capture.Read(frame); i++) writer.Write(frame);
        return path;
    }

    private static ReplaySummary Replay(string input, string outDir, bool overlay = true) => new ReplayRun(new ReplayOptions(input)
    {
        Model = new ModelOptions { Providers = ["cpu"], Threads = 1 },
        Overlay = overlay ? Path.Combine(outDir, "overlay.avi") : null,
        MasksDir = Path.Combine(outDir, "masks"),
        Report = Path.Combine(outDir, "report.jsonl"),
    }, NullLogger.Instance).Run();

    [Fact]
    public void Every_frame_is_replayed_in_order_into_masks_a_report_and_a_playable_overlay_the_same_each_time()
    {
        string clip = Clip(8);
        string a = Path.Combine(Dir, "a"), b = Path.Combine(Dir, "b");
        var first = Replay(clip, a);
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(8, first.Frames);
        Assert.Equal(0, first.Dropped);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"{i:D6}.png"), Directory.GetFiles(Path.Combine(a, "masks")).Select(Path.GetFileName).Order());
        var lines = File.ReadAllLines(Path.Combine(a, "report.jsonl"));
        Assert.Equal(9, lines.Length);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), lines[..8].Select(l => JsonDocument.Parse(l).RootElement.GetProperty("frame").GetInt64()));
        // The recording's own timestamps: 15 fps, so frame i is at i / 15 s.
        Assert.Equal(Enumerable.Range(0, 8).Select(i => Math.Round(i * 1000.0 / 15, 0)),
            lines[..8].Select(l => Math.Round(JsonDocument.Parse(l).RootElement.GetProperty("source_ms").GetDouble(), 0)));
        var summary = JsonDocument.Parse(lines[8]).RootElement;
        Assert.Equal(8, summary.GetProperty("frames").GetInt64());
        Assert.True(summary.GetProperty("class_shares").GetProperty("road").GetDouble() > 0.05);
        using (var plot = Cv2.ImRead(Path.Combine(a, "report.png"))) Assert.Equal(new Size(960, 560), plot.Size()); // latency and class shares over time
        using (var overlay = new VideoCapture(Path.Combine(a, "overlay.avi")))
        {
            Assert.True(overlay.IsOpened());
            Assert.Equal(8, (int)overlay.Get(VideoCaptureProperties.FrameCount));
            using var frame = new Mat();
            Assert.True(overlay.Read(frame));
            Assert.Equal(new Size(640, 360), frame.Size());
        }
        // Same input and model → the same masks, byte for byte.
        Assert.Equal(0, Replay(clip, b, overlay: false).ExitCode);
        foreach (var file in Directory.GetFiles(Path.Combine(a, "masks")))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(b, "masks", Path.GetFileName(file))));
    }

    [Fact]
    public void A_truncated_recording_keeps_what_was_replayed_closes_the_overlay_and_fails()
    {
        string clip = Clip(12);
        var bytes = File.ReadAllBytes(clip);
        var starts = Enumerable.Range(0, bytes.Length - 4).Where(i => bytes.AsSpan(i, 4).SequenceEqual("00dc"u8)).ToList();
        File.WriteAllBytes(clip, bytes[..starts[7]]);
        string outDir = Path.Combine(Dir, "cut");
        var result = Replay(clip, outDir);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("could not be decoded and nothing after it could be read", result.Ending);
        Assert.InRange(result.Frames, 5, 7);
        Assert.Equal(result.Frames, Directory.GetFiles(Path.Combine(outDir, "masks")).Length);
        using var overlay = new VideoCapture(Path.Combine(outDir, "overlay.avi"));
        Assert.True(overlay.IsOpened(), "the overlay of a failed replay is not playable");
        Assert.Equal(result.Frames, (long)overlay.Get(VideoCaptureProperties.FrameCount));
        Assert.Contains("\"summary\":true", File.ReadAllLines(Path.Combine(outDir, "report.jsonl"))[^1]);
    }

    /// <summary>
    /// Round 2, item 14: links planted at the names of outputs (another user's trick in a shared folder) are replaced,
    /// never written through; their targets stay as they were; no temporary file is left.
    /// </summary>
    [Fact]
    public void Outputs_replace_links_planted_at_their_names_and_never_write_through_them()
    {
        string clip = Clip(3);
        string outDir = Path.Combine(Dir, "shared");
        Directory.CreateDirectory(Path.Combine(outDir, "masks"));
        string victim = Path.Combine(Dir, "victim.txt");
        File.WriteAllText(victim, "root's file");
        foreach (var name in new[] { "masks/000000.png", "report.jsonl", "report.png", "overlay.avi" })
            File.CreateSymbolicLink(Path.Combine(outDir, name), victim);
        var result = Replay(clip, outDir);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("root's file", File.ReadAllText(victim));
        foreach (var name in new[] { "masks/000000.png", "report.jsonl", "report.png", "overlay.avi" })
            Assert.Null(new FileInfo(Path.Combine(outDir, name)).LinkTarget);
        Assert.Empty(Directory.EnumerateFiles(outDir, ".*", SearchOption.AllDirectories));
    }

    /// <summary>
    /// Round 2, item 5: SIGINT finishes the frame in flight, closes the overlay, writes the summary and exits 130;
    /// every output is complete (the overlay plays and holds every frame the report lists).
    /// </summary>
    [Fact]
    public void Sigint_finishes_the_frame_closes_every_output_and_exits_130()
    {
        string clip = Clip(200);
        string overlay = Path.Combine(Dir, "int", "o.avi"), report = Path.Combine(Dir, "int", "r.jsonl");
        using var replay = RingProcesses.Start("dotnet", RingProcesses.EdgeDll, "replay", clip, "--providers", "cpu", "--threads", "1",
            "--overlay", overlay, "--report", report);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !(Directory.Exists(Path.GetDirectoryName(report)) &&
               Directory.EnumerateFiles(Path.GetDirectoryName(report)!, ".r.part-*").Any(f => new FileInfo(f).Length > 2000))) Thread.Sleep(100);
        Assert.Equal(0, RingProcesses.Finish(RingProcesses.Start("kill", "-INT", replay.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))).Code);
        var (code, output) = RingProcesses.Finish(replay);
        Assert.True(code == 130, output);
        Assert.Contains("interrupted at frame", output);
        var lines = File.ReadAllLines(report);
        var summary = JsonDocument.Parse(lines[^1]).RootElement;
        Assert.True(summary.GetProperty("summary").GetBoolean());
        Assert.StartsWith("interrupted at frame", summary.GetProperty("ending").GetString());
        long frames = summary.GetProperty("frames").GetInt64();
        Assert.InRange(frames, 1, 199);
        Assert.Equal(frames, lines.Length - 1);
        using var video = new VideoCapture(overlay);
        Assert.True(video.IsOpened());
        Assert.Equal(frames, (long)video.Get(VideoCaptureProperties.FrameCount));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(report)!, ".*"));
    }

    /// <summary>
    /// Round 2, item 5: on a full file system (a 400 KB tmpfs in a mount namespace of its own) replay fails naming the
    /// output, exit 1, and leaves no partial overlay, report or PNG behind — it said "replayed 6 frames", rc 0.
    /// </summary>
    [Fact]
    public void A_full_disk_fails_the_replay_and_leaves_no_partial_output()
    {
        string clip = Clip(12);
        string full = Path.Combine(Dir, "full");
        Directory.CreateDirectory(full);
        var (code, output) = RingProcesses.Finish(RingProcesses.Start("unshare", "-m", "sh", "-c",
            $"mount -t tmpfs -o size=400k tmpfs '{full}' && dotnet '{RingProcesses.EdgeDll}' replay '{clip}' --providers cpu --threads 1 " +
            $"--overlay '{full}/o.avi' --report '{full}/r.jsonl' --masks '{full}/m' 2>&1; rc=$?; echo; echo \"rc=$rc\"; ls -A '{full}' '{full}/m' 2>/dev/null | tr '\\n' ' '"));
        Assert.True(code == 0, output);
        Assert.Contains("rc=1", output);
        Assert.Contains("dannet-edge replay: ", output);
        Assert.Contains("No space left on device", output);
        Assert.DoesNotContain("replayed 12 frames", output);
        Assert.DoesNotContain("o.avi", output.Split("rc=1")[1]);
        Assert.DoesNotContain("r.jsonl", output.Split("rc=1")[1]);
        Assert.DoesNotContain(".part-", output.Split("rc=1")[1]);
    }

    [Fact]
    public void An_h264_dash_cam_clip_replays_through_the_command()
    {
        string avi = Clip(6), mp4 = Path.Combine(Dir, "dashcam.mp4");
        var encode = RingProcesses.Finish(RingProcesses.Start("ffmpeg", "-hide_banner", "-loglevel", "error", "-i", avi, "-c:v", "libx264", "-pix_fmt", "yuv420p", mp4));
        Assert.True(encode.Code == 0, encode.Output);
        var (code, output) = RingProcesses.Edge("replay", mp4, "--providers", "cpu", "--masks", Path.Combine(Dir, "mp4-masks"));
        Assert.True(code == 0, output);
        Assert.Contains("replayed 6 frames", output);
        Assert.Contains("dropped 0", output);
        Assert.Equal(6, Directory.GetFiles(Path.Combine(Dir, "mp4-masks")).Length);
    }

    [Fact]
    public void Labels_score_each_frame_and_the_drive_with_evals_code()
    {
        string clip = Clip(4);
        string first = Path.Combine(Dir, "first");
        Assert.Equal(0, Replay(clip, first, overlay: false).ExitCode);
        // The model's own masks as trainId labels: every frame scores 1; one label made all road scores less.
        string labels = Path.Combine(Dir, "labels");
        Directory.CreateDirectory(labels);
        foreach (var f in Directory.GetFiles(Path.Combine(first, "masks"))) File.Copy(f, Path.Combine(labels, Path.GetFileName(f)));
        using (var road = new Mat(272, 480, MatType.CV_8UC1, Scalar.All(0))) Cv2.ImWrite(Path.Combine(labels, "000002.png"), road);
        string second = Path.Combine(Dir, "second");
        var result = new ReplayRun(new ReplayOptions(clip)
        {
            Model = new ModelOptions { Providers = ["cpu"], Threads = 1 }, Report = Path.Combine(second, "report.jsonl"),
            LabelsDir = labels, LabelsAreTrainIds = true,
        }, NullLogger.Instance).Run();
        var lines = File.ReadAllLines(Path.Combine(second, "report.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([1.0, 1.0, 1.0], new[] { 0, 1, 3 }.Select(i => lines[i].GetProperty("miou").GetDouble()));
        Assert.True(lines[2].GetProperty("miou").GetDouble() < 1.0);
        var evaluation = result.Report["evaluation"]!;
        Assert.Equal(4, (int)evaluation["frames_scored"]!);
        Assert.InRange((double)evaluation["miou"]!, 0.0, 0.999);
        Assert.Contains("--labels", Assert.Throws<ArgumentException>(() => new ReplayRun(new ReplayOptions(clip) { LabelsDir = Path.Combine(Dir, "none") },
            NullLogger.Instance).Run()).Message);
    }

    [Fact]
    public void An_image_folder_gives_masks_named_after_its_files_at_the_source_size_and_labels_found_by_name()
    {
        // Dark Zurich's naming: image x_rgb_anon.png, label x_gt_labelIds.png; and two images sharing a stem (side.jpg, side.png).
        string folder = Path.Combine(Dir, "stills");
        Directory.CreateDirectory(folder);
        using (var capture = new VideoCapture(EdgeDefaults.VideoPath))
        using (var frame = new Mat())
        {
            capture.Read(frame);
            Cv2.ImWrite(Path.Combine(folder, "GOPR0001_frame_000010_rgb_anon.png"), frame);
            using var half = frame.Resize(new Size(320, 180));
            Cv2.ImWrite(Path.Combine(folder, "side.jpg"), half);
            Cv2.ImWrite(Path.Combine(folder, "side.png"), half);
        }
        string labels = Path.Combine(Dir, "labels");
        Directory.CreateDirectory(labels);
        // All road, as Cityscapes labelIds (road is labelId 7): the frame with this label scores road only.
        using (var road = new Mat(360, 640, MatType.CV_8UC1, Scalar.All(7))) Cv2.ImWrite(Path.Combine(labels, "GOPR0001_frame_000010_gt_labelIds.png"), road);
        string masks = Path.Combine(Dir, "masks");
        var result = new ReplayRun(new ReplayOptions(folder)
        {
            Model = new ModelOptions { Providers = ["cpu"], Threads = 1 }, MasksDir = masks, MaskSize = MaskSize.Source, Colour = true,
            Report = Path.Combine(Dir, "report.jsonl"), LabelsDir = labels,
        }, NullLogger.Instance).Run();
        Assert.Equal(3, result.Frames);
        // In name order side.jpg comes first and gets the stem; side.png keeps its whole name.
        Assert.Equal(["GOPR0001_frame_000010_rgb_anon.png", "GOPR0001_frame_000010_rgb_anon_colour.png", "side.png", "side.png.png", "side.png_colour.png",
            "side_colour.png"], Directory.GetFiles(masks).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // Each mask at its own image's size; its classes are the model-size mask's, scaled by nearest neighbour.
        using (var big = Cv2.ImRead(Path.Combine(masks, "GOPR0001_frame_000010_rgb_anon.png"), ImreadModes.Unchanged))
            Assert.Equal((new Size(640, 360), 1), (big.Size(), big.Channels()));
        using (var small = Cv2.ImRead(Path.Combine(masks, "side.png"), ImreadModes.Unchanged)) Assert.Equal(new Size(320, 180), small.Size());
        using (var colour = Cv2.ImRead(Path.Combine(masks, "side_colour.png"))) Assert.Equal(new Size(320, 180), colour.Size());
        var lines = File.ReadAllLines(Path.Combine(Dir, "report.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var scored = lines.Take(3).Where(l => l.TryGetProperty("miou", out _)).ToList();
        Assert.Equal("GOPR0001_frame_000010_rgb_anon.png", Assert.Single(scored).GetProperty("file").GetString());
        Assert.Equal(1, (int)result.Report["evaluation"]!["frames_scored"]!);
        // Only road is in the label: road's IoU is the share of the mask that is road, every other class the mask holds scores 0
        // (predicted, never labelled), and the mean is over road and those classes.
        using var mask = Cv2.ImRead(Path.Combine(masks, "GOPR0001_frame_000010_rgb_anon.png"), ImreadModes.Unchanged);
        Assert.True(mask.GetArray(out byte[] values));
        var classes = values.Distinct().Append((byte)0).Distinct().Count();
        Assert.Equal(Math.Round(values.Count(v => v == 0) / (640.0 * 360) / classes, 5), (double)result.Report["evaluation"]!["miou"]!);
    }

    [Fact]
    public void The_overlay_is_h264_mp4_when_asked_and_says_what_to_install_without_ffmpeg()
    {
        string clip = Clip(5), video = Path.Combine(Dir, "overlay.mp4");
        if (DANNet.Edge.Sources.FfmpegSource.Available())
        {
            var (code, output) = RingProcesses.Edge("replay", clip, "--providers", "cpu", "--overlay", video);
            Assert.True(code == 0, output);
            using var check = new VideoCapture(video);
            Assert.Equal(5, (int)check.Get(VideoCaptureProperties.FrameCount));
            Assert.Contains(Codec(check).ToLowerInvariant(), new[] { "avc1", "h264" });
            Assert.Empty(Directory.GetFiles(Dir, ".overlay.part-*"));
        }
        // Without ffmpeg on PATH the command refuses before any frame, naming the file and the fix.
        var info = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { RingProcesses.EdgeDll, "replay", clip, "--providers", "cpu", "--overlay", Path.Combine(Dir, "none.mp4") }) info.ArgumentList.Add(a);
        info.Environment["PATH"] = "/nonexistent";
        var (refused, message) = RingProcesses.Finish(System.Diagnostics.Process.Start(info)!);
        Assert.Equal(2, refused);
        Assert.Contains("--overlay '", message);
        Assert.Contains("ffmpeg, which is not installed (apt install ffmpeg); or name a .avi", message);
        Assert.False(File.Exists(Path.Combine(Dir, "none.mp4")));
    }

    private static string Codec(VideoCapture capture)
    {
        int code = (int)capture.Get(VideoCaptureProperties.FourCC);
        return new string([(char)(code & 255), (char)((code >> 8) & 255), (char)((code >> 16) & 255), (char)((code >> 24) & 255)]);
    }
}
