using System.Text.Json.Nodes;
using DANNet.Edge.Configuration;
using DANNet.Edge.Contracts;
using DANNet.Edge.Replay;
using DANNet.Edge.Tests.SharedMemory;
using DANNet.Edge.Validation;
using DANNet.Model;
using DANNet.Model.Onnx;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace DANNet.Edge.Tests.Validation;

/// <summary>
/// dannet-edge validate on tiny drives cut from the committed night drive: the embedded model as the baseline, and as the "new" model
/// the same net with one class weight of its re-weighting lowered (so some pixels change class, as a retrained model's would).
/// </summary>
[Collection(RingProcessCollection.Name)]
public sealed class ValidationTests() : RingFolderTests("dannet-validate-")
{
    private static readonly ModelOptions Cpu = new() { Providers = ["cpu"], Threads = 1 };

    private string Reweighted() => ValidationInputs.Reweighted(Dir);

    private static string Video(string path, int from, int count, string fourcc = "MJPG") => ValidationInputs.Video(path, from, count, fourcc);

    private static string Stills(string folder, int from, int count) => ValidationInputs.Stills(folder, from, count);

    /// <summary>Three drives: two recordings (MJPG .avi, MPEG-4 .mp4) and a folder of stills.</summary>
    private string Drives()
    {
        string drives = Path.Combine(Dir, "drives");
        Video(Path.Combine(drives, "dusk.avi"), 0, 4);
        Video(Path.Combine(drives, "late.mp4"), 150, 3, "mp4v");
        Stills(Path.Combine(drives, "stills"), 240, 3);
        return drives;
    }

    private static ValidationOutcome Validate(string drives, string model, string? baseline, string output, ValidationGates? gates = null,
        Shard? shard = null, bool resume = false) =>
        new FleetValidator(new ValidationOptions(drives, model, output)
        {
            BaselinePath = baseline, Model = Cpu, WorstFrames = 4, Gates = gates ?? new(), Shard = shard ?? Shard.Whole, Resume = resume,
        }, NullLogger.Instance).Run();

    /// <summary>The report without what timing decides (latencies): what must be equal between any two runs over the same drives.</summary>
    private static string Deterministic(JsonObject report)
    {
        var copy = (JsonObject)report.DeepClone();
        copy.Remove("latency_ms");
        copy.Remove("gates");
        copy.Remove("verdict");
        foreach (var d in copy["drives"]!.AsArray()) d!.AsObject().Remove("latency_ms");
        return copy.ToJsonString();
    }

    [Fact]
    public void Three_shards_run_as_processes_merge_to_the_totals_of_one_run()
    {
        string drives = Drives();
        // A fourth drive so the shards are uneven (2, 1, 1).
        Video(Path.Combine(drives, "again.avi"), 60, 2);
        string model = Reweighted(), baseline = EdgeDefaults.ModelPath;
        var whole = Validate(drives, model, baseline, Path.Combine(Dir, "whole"));
        Assert.Equal(0, whole.ExitCode);
        Assert.Equal(12, whole.Report["totals"]!["frames"]!.GetValue<long>());

        string shards = Path.Combine(Dir, "shards");
        string[] Args(int i) => ["validate", "--drives", drives, "--model", model, "--baseline", baseline, "--out", shards, "--providers", "cpu", "--threads", "1",
            "--worst", "4", .. i == 2 ? Array.Empty<string>() : ["--shard", $"{i}/3"]];
        var started = Enumerable.Range(0, 3).Select(i =>
        {
            var p = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { RingProcesses.EdgeDll }.Concat(Args(i))) p.ArgumentList.Add(a);
            // The third shard learns its place as a pod of a Kubernetes Indexed Job does.
            if (i == 2)
            {
                p.Environment[Shard.IndexVariable] = "2";
                p.Environment[Shard.CountVariable] = "3";
            }
            return System.Diagnostics.Process.Start(p)!;
        }).ToList();
        foreach (var p in started)
        {
            var (code, output) = RingProcesses.Finish(p);
            Assert.True(code == 0, output);
        }
        Assert.Equal(["shard-0-of-3", "shard-1-of-3", "shard-2-of-3"], Directory.GetDirectories(shards).Select(Path.GetFileName).Order());
        Assert.Equal(["again.json", "stills.json"], Directory.GetFiles(Path.Combine(shards, "shard-0-of-3", "drives")).Select(Path.GetFileName).Order());

        var (mergeCode, mergeOutput) = RingProcesses.Edge("validate", "merge", shards, "--out", Path.Combine(Dir, "merged"), "--min-agreement", "0.5");
        Assert.True(mergeCode == 0, mergeOutput);
        Assert.Contains("validate: PASS — 4 drives, 12 frames", mergeOutput);
        var merged = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "merged", ValidationReport.JsonFile)))!;
        Assert.Equal(Deterministic(whole.Report), Deterministic(merged));
        // Per-frame latencies are kept, so the merged percentiles are those of every frame, not an average of the shards'.
        Assert.Equal(12, merged["latency_ms"]!["new"]!["count"]!.GetValue<int>());
        Assert.Equal(12, merged["latency_ms"]!["baseline"]!["count"]!.GetValue<int>());
        foreach (var w in merged["worst_frames"]!.AsArray()) Assert.True(File.Exists(Path.Combine(Dir, "merged", w!["image"]!.GetValue<string>())));
    }

    [Fact]
    public void Agreement_drift_and_miou_come_from_the_masks_and_the_worst_frames_are_pictured()
    {
        string drives = Drives();
        // Labels for the stills: the baseline's own masks as trainIds, so the baseline scores exactly 1 and the new model less.
        string labels = Path.Combine(Dir, "labels");
        var replay = new ReplayRun(new ReplayOptions(Path.Combine(drives, "stills")) { Model = Cpu, MasksDir = labels, MaskSize = MaskSize.Source },
            NullLogger.Instance).Run();
        Assert.Equal(3, replay.Frames);
        Assert.Equal(["shot_000.png", "shot_001.png", "shot_002.png"], Directory.GetFiles(labels).Select(Path.GetFileName).Order());
        string manifest = Path.Combine(Dir, "drives.txt");
        File.WriteAllLines(manifest, ["# the recordings, then the labelled stills", "drives/dusk.avi", "", "drives/stills labels=labels trainids"]);

        var outcome = Validate(manifest, Reweighted(), EdgeDefaults.ModelPath, Path.Combine(Dir, "out"));
        var totals = outcome.Report["totals"]!;
        Assert.Equal(7, totals["frames"]!.GetValue<long>());
        Assert.Equal(3, totals["labelled_frames"]!.GetValue<int>());
        Assert.Equal(1.0, totals["miou"]!["baseline"]!.GetValue<double>());
        double newMiou = totals["miou"]!["new"]!.GetValue<double>(), agreement = totals["agreement"]!.GetValue<double>();
        Assert.InRange(newMiou, 0.01, 0.999999);
        Assert.InRange(agreement, 0.01, 0.999999);
        // Road's weight went down: road's share can only fall, and the shares of both models still sum to 1.
        var shares = totals["class_shares"]!.AsObject();
        Assert.True(shares["road"]!["drift_pp"]!.GetValue<double>() < 0);
        Assert.Equal(1.0, shares.Sum(s => s.Value!["new"]!.GetValue<double>()), 4);
        Assert.Equal(1.0, shares.Sum(s => s.Value!["baseline"]!.GetValue<double>()), 4);
        Assert.True(totals["class_agreement"]!["road"]!.GetValue<double>() < 1);

        // The drive results add up to the totals, and each drive's agreement lies within its frames'.
        var results = Directory.GetFiles(Path.Combine(Dir, "out", "drives")).Select(DriveResult.Read).ToList();
        var sum = new ConfusionMatrix();
        foreach (var r in results)
        {
            var m = ConfusionMatrix.FromCounts(r.Agreement!);
            sum.Add(m);
            Assert.InRange(m.Agreement(), r.FrameAgreement.Min(), r.FrameAgreement.Max());
            Assert.Equal(r.Frames, r.NewLatencyMs.Count);
            Assert.Equal(r.Frames * 480L * 272, r.NewClassPixels.Sum());
        }
        Assert.Equal(Math.Round(sum.Agreement(), 6), agreement);

        // The worst frames: the lowest agreements of all frames, lowest first, each a picture baseline | new | difference.
        var worst = outcome.Report["worst_frames"]!.AsArray();
        Assert.Equal(4, worst.Count);
        var all = results.SelectMany(r => r.FrameAgreement).Order().Take(4).Select(a => Math.Round(a, 9));
        Assert.Equal(all, worst.Select(w => Math.Round(w!["agreement"]!.GetValue<double>(), 9)));
        using (var picture = Cv2.ImRead(Path.Combine(Dir, "out", worst[0]!["image"]!.GetValue<string>())))
            Assert.Equal(new Size(3 * 640, 360), picture.Size());
        Assert.Contains(worst, w => w!["file"]?.GetValue<string>() is "shot_000.jpg" or "shot_001.jpg" or "shot_002.jpg" || w!["drive"]!.GetValue<string>() == "dusk");

        string report = File.ReadAllText(Path.Combine(Dir, "out", ValidationReport.MarkdownFile));
        Assert.Contains("| stills | 3 |", report);
        Assert.Contains("![class shares and per-class agreement](plots/classes.png)", report);
        foreach (var plot in new[] { "classes.png", "drives.png" })
            using (var image = Cv2.ImRead(Path.Combine(Dir, "out", "plots", plot))) Assert.Equal(960, image.Cols);
    }

    [Fact]
    public void The_exit_code_gates_on_agreement_latency_and_miou()
    {
        string drives = Path.Combine(Dir, "drives");
        Video(Path.Combine(drives, "short.avi"), 0, 2);
        string model = Reweighted();
        var strict = Validate(drives, model, EdgeDefaults.ModelPath, Path.Combine(Dir, "strict"), new ValidationGates(MinAgreement: 1.0));
        Assert.Equal(ValidationOutcome.GateFailed, strict.ExitCode);
        Assert.Equal("fail", strict.Report["verdict"]!.GetValue<string>());
        Assert.False(strict.Report["gates"]![0]!["passed"]!.GetValue<bool>());
        Assert.Contains("**FAIL**", File.ReadAllText(Path.Combine(Dir, "strict", ValidationReport.MarkdownFile)));
        // The same model against itself agrees on every pixel; a latency ratio of 1000 cannot fail.
        var same = Validate(drives, EdgeDefaults.ModelPath, EdgeDefaults.ModelPath, Path.Combine(Dir, "same"),
            new ValidationGates(MinAgreement: 1.0, MaxLatencyRatio: 1000));
        Assert.Equal(ValidationOutcome.Passed, same.ExitCode);
        Assert.Equal(1.0, same.Report["totals"]!["agreement"]!.GetValue<double>());
        // A gate on mIoU without any labels has no value: it fails rather than passing unseen.
        var unlabelled = Validate(drives, model, null, Path.Combine(Dir, "unlabelled"), new ValidationGates(MinMiou: 0.1));
        Assert.Equal(ValidationOutcome.GateFailed, unlabelled.ExitCode);
        Assert.Null(unlabelled.Report["totals"]!["agreement"]);
        var noBaseline = Assert.Throws<ArgumentException>(() => Validate(drives, model, null, Path.Combine(Dir, "x"), new ValidationGates(MinAgreement: 0.9)));
        Assert.Contains("--baseline", noBaseline.Message);
    }

    [Fact]
    public void A_damaged_drive_is_reported_and_fails_the_run_while_the_others_are_kept_and_resume_plays_only_what_is_missing()
    {
        string drives = Path.Combine(Dir, "drives");
        Video(Path.Combine(drives, "good.avi"), 0, 3);
        string broken = Video(Path.Combine(drives, "broken.avi"), 10, 12);
        var bytes = File.ReadAllBytes(broken);
        var starts = Enumerable.Range(0, bytes.Length - 4).Where(i => bytes.AsSpan(i, 4).SequenceEqual("00dc"u8)).ToList();
        File.WriteAllBytes(broken, bytes[..starts[7]]);
        string output = Path.Combine(Dir, "out");
        var outcome = Validate(drives, EdgeDefaults.ModelPath, null, output);
        Assert.Equal(ValidationOutcome.DriveFailed, outcome.ExitCode);
        var brokenEntry = outcome.Report["drives"]!.AsArray().Single(d => d!["drive"]!.GetValue<string>() == "broken")!;
        Assert.StartsWith("stopped at frame", brokenEntry["status"]!.GetValue<string>());
        Assert.Equal("ok", outcome.Report["drives"]!.AsArray().Single(d => d!["drive"]!.GetValue<string>() == "good")!["status"]!.GetValue<string>());
        Assert.Equal(1, outcome.Report["totals"]!["drives_failed"]!.GetValue<int>());

        // --resume keeps the good drive's result (its file is not rewritten) and plays the failed one again.
        string good = Path.Combine(output, "drives", "good.json");
        File.SetLastWriteTimeUtc(good, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var again = Validate(drives, EdgeDefaults.ModelPath, null, output, resume: true);
        Assert.Equal(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(good));
        Assert.Equal(Deterministic(outcome.Report), Deterministic(again.Report));
        // Results of other model files are never kept: with another model, --resume plays the good drive again.
        Validate(drives, Reweighted(), null, output, resume: true);
        Assert.NotEqual(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(good));
    }

    [Fact]
    public void Merge_refuses_missing_doubled_and_foreign_shards()
    {
        string drives = Path.Combine(Dir, "drives");
        Video(Path.Combine(drives, "a.avi"), 0, 1);
        Video(Path.Combine(drives, "b.avi"), 5, 1);
        string shards = Path.Combine(Dir, "shards");
        Validate(drives, EdgeDefaults.ModelPath, null, shards, shard: new Shard(0, 2));
        var missing = Assert.Throws<ArgumentException>(() => ValidationMerge.Run([shards], Path.Combine(Dir, "m1"), new()));
        Assert.Contains("Shard(s) 1/2 missing", missing.Message);
        string zero = Path.Combine(shards, "shard-0-of-2");
        var twice = Assert.Throws<ArgumentException>(() => ValidationMerge.Run([zero, zero], Path.Combine(Dir, "m2"), new()));
        Assert.Contains("given twice", twice.Message);
        // Shard 1 of a run with another model is not part of this validation.
        Validate(drives, Reweighted(), null, shards, shard: new Shard(1, 2));
        var foreign = Assert.Throws<ArgumentException>(() => ValidationMerge.Run([shards], Path.Combine(Dir, "m3"), new()));
        Assert.Contains("other model files", foreign.Message);
    }
}
