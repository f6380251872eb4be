using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DANNet.Edge.Contracts;
using DANNet.Edge.Replay;
using DANNet.Model;
using DANNet.Model.IO;
using OpenCvSharp;

namespace DANNet.Edge.Validation;

/// <summary>
/// The validation report, from a list of drive results (one run's, or every shard's): <c>validation.json</c> for machines,
/// <c>report.md</c> for people, with pictures under <c>plots/</c> that have scaled axes. Totals are sums of the drives' counts —
/// confusion matrices, class pixels, per-frame latencies — so a merge of shards gives the totals of one run over all drives.
/// </summary>
public static class ValidationReport
{
    public const string Format = "dannet-edge-validation/1", JsonFile = "validation.json", MarkdownFile = "report.md", PlotsFolder = "plots";

    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes the report of <paramref name="results"/> into <paramref name="folder"/> and returns its JSON.</summary>
    public static JsonObject Write(string folder, JsonObject run, IReadOnlyList<DriveResult> results, ValidationGates gates, bool complete)
    {
        var classes = run["classes"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        bool hasBaseline = run["models"]!["baseline"] is not null;
        var report = new JsonObject
        {
            ["format"] = Format,
            ["complete"] = complete,
            ["models"] = run["models"]!.DeepClone(),
            ["drives_listed"] = run["drives"]!.AsArray().Count,
            ["drives"] = new JsonArray([.. results.Select(r => (JsonNode)Drive(r, classes.Count))]),
            ["totals"] = Totals(results, classes, hasBaseline),
            ["latency_ms"] = Latency(results, hasBaseline),
            ["worst_frames"] = new JsonArray([.. results.SelectMany(r => r.Worst).Order(WorstFrame.Order).Take(run["worst_frames"]!.GetValue<int>())
                .Select(w => (JsonNode)JsonSerializer.SerializeToNode(w, DriveResult.Json)!)]),
        };
        var checks = Gates(report, gates, results);
        report["gates"] = checks;
        report["verdict"] = checks.All(c => c!["passed"]!.GetValue<bool>()) && results.All(r => r.Status == "ok") && complete ? "pass" : "fail";
        Directory.CreateDirectory(Path.Combine(folder, PlotsFolder));
        var plots = Plots(folder, report, results, classes, hasBaseline);
        AtomicFile.WriteAllText(Path.Combine(folder, MarkdownFile), Markdown(report, classes, hasBaseline, plots));
        AtomicFile.WriteAllText(Path.Combine(folder, JsonFile), report.ToJsonString(Indented));
        return report;
    }

    /// <summary>The exit code a report stands for: 0 pass, 1 a drive could not be read, 4 a gate failed.</summary>
    public static int ExitCode(JsonObject report)
    {
        if (report["gates"]!.AsArray().Any(g => !g!["passed"]!.GetValue<bool>())) return ValidationOutcome.GateFailed;
        return report["verdict"]!.GetValue<string>() == "pass" ? ValidationOutcome.Passed : ValidationOutcome.DriveFailed;
    }

    private static double? Round(double value, int digits = 6) => double.IsFinite(value) ? Math.Round(value, digits) : null;

    private static JsonObject Drive(DriveResult r, int classes)
    {
        var entry = new JsonObject
        {
            ["drive"] = r.Drive, ["status"] = r.Status, ["frames"] = r.Frames, ["labelled_frames"] = r.LabelledFrames,
            ["agreement"] = r.Agreement is { } a ? Round(ConfusionMatrix.FromCounts(a).Agreement()) : null,
            ["worst_frame_agreement"] = r.FrameAgreement.Count > 0 ? Round(r.FrameAgreement.Min()) : null,
            ["miou"] = new JsonObject
            {
                ["new"] = r.NewVsLabels is { } n ? Round(ConfusionMatrix.FromCounts(n).MeanIoU()) : null,
                ["baseline"] = r.BaselineVsLabels is { } b ? Round(ConfusionMatrix.FromCounts(b).MeanIoU()) : null,
            },
            ["latency_ms"] = new JsonObject
            {
                ["new"] = LatencySummary.Of(r.NewLatencyMs).Rounded(3).ToJson(),
                ["baseline"] = r.BaselineLatencyMs.Count > 0 ? LatencySummary.Of(r.BaselineLatencyMs).Rounded(3).ToJson() : null,
            },
        };
        return entry;
    }

    private static ConfusionMatrix? Sum(IEnumerable<long[]?> counts, int classes)
    {
        ConfusionMatrix? total = null;
        foreach (var c in counts)
        {
            if (c is null) continue;
            total ??= new ConfusionMatrix(classes);
            total.Add(ConfusionMatrix.FromCounts(c));
        }
        return total;
    }

    private static long[] SumPixels(IEnumerable<long[]?> pixels, int classes)
    {
        var total = new long[classes];
        foreach (var p in pixels)
            if (p is not null)
                for (int c = 0; c < classes && c < p.Length; c++) total[c] += p[c];
        return total;
    }

    private static JsonObject Totals(IReadOnlyList<DriveResult> results, IReadOnlyList<string> classes, bool hasBaseline)
    {
        int n = classes.Count;
        var agreement = Sum(results.Select(r => r.Agreement), n);
        var newPixels = SumPixels(results.Select(r => r.NewClassPixels), n);
        var basePixels = SumPixels(results.Select(r => r.BaselineClassPixels), n);
        double newTotal = Math.Max(1, newPixels.Sum()), baseTotal = Math.Max(1, basePixels.Sum());
        var shares = new JsonObject();
        for (int c = 0; c < n; c++)
        {
            var share = new JsonObject { ["new"] = Round(newPixels[c] / newTotal) };
            if (hasBaseline)
            {
                share["baseline"] = Round(basePixels[c] / baseTotal);
                share["drift_pp"] = Round(100 * (newPixels[c] / newTotal - basePixels[c] / baseTotal), 4);
            }
            shares[classes[c]] = share;
        }
        var totals = new JsonObject
        {
            ["drives"] = results.Count,
            ["drives_failed"] = results.Count(r => r.Status != "ok"),
            ["frames"] = results.Sum(r => r.Frames),
            ["agreement"] = agreement is null ? null : Round(agreement.Agreement()),
            ["class_agreement"] = agreement is null ? null : PerClass(agreement.IoU(), classes),
            ["class_shares"] = shares,
            ["labelled_frames"] = results.Sum(r => r.LabelledFrames),
        };
        var newLabels = Sum(results.Select(r => r.NewVsLabels), n);
        var baseLabels = Sum(results.Select(r => r.BaselineVsLabels), n);
        totals["miou"] = new JsonObject
        {
            ["new"] = newLabels is null ? null : Round(newLabels.MeanIoU()),
            ["baseline"] = baseLabels is null ? null : Round(baseLabels.MeanIoU()),
        };
        totals["iou"] = new JsonObject
        {
            ["new"] = newLabels is null ? null : PerClass(newLabels.IoU(), classes),
            ["baseline"] = baseLabels is null ? null : PerClass(baseLabels.IoU(), classes),
        };
        return totals;
    }

    private static JsonObject PerClass(double[] values, IReadOnlyList<string> classes)
    {
        var o = new JsonObject();
        for (int c = 0; c < classes.Count && c < values.Length; c++) o[classes[c]] = Round(values[c]);
        return o;
    }

    private static JsonObject Latency(IReadOnlyList<DriveResult> results, bool hasBaseline)
    {
        var model = LatencySummary.Of(results.SelectMany(r => r.NewLatencyMs));
        var o = new JsonObject { ["new"] = model.Rounded(3).ToJson() };
        if (hasBaseline)
        {
            var baseline = LatencySummary.Of(results.SelectMany(r => r.BaselineLatencyMs));
            o["baseline"] = baseline.Rounded(3).ToJson();
            o["p50_ratio"] = baseline.Count > 0 && baseline.P50 > 0 ? Round(model.P50 / baseline.P50, 4) : null;
        }
        return o;
    }

    private static JsonArray Gates(JsonObject report, ValidationGates gates, IReadOnlyList<DriveResult> results)
    {
        var checks = new JsonArray();
        void Check(string gate, double threshold, double? value, bool atLeast) => checks.Add(new JsonObject
        {
            ["gate"] = gate, ["threshold"] = threshold, ["value"] = value,
            ["passed"] = value is { } v && (atLeast ? v >= threshold : v <= threshold),
        });
        var totals = report["totals"]!;
        if (gates.MinAgreement is { } a) Check("min-agreement", a, totals["agreement"]?.GetValue<double>(), atLeast: true);
        if (gates.MaxLatencyRatio is { } r) Check("max-latency-ratio", r, report["latency_ms"]!["p50_ratio"]?.GetValue<double>(), atLeast: false);
        if (gates.MinMiou is { } m) Check("min-miou", m, totals["miou"]!["new"]?.GetValue<double>(), atLeast: true);
        return checks;
    }

    private static string Pct(JsonNode? fraction, string format = "F2") =>
        fraction is null ? "–" : (100 * fraction.GetValue<double>()).ToString(format, CultureInfo.InvariantCulture) + " %";

    private static string Ms(JsonNode? summary, string key) =>
        summary?[key] is { } v ? v.GetValue<double>().ToString("F1", CultureInfo.InvariantCulture) : "–";

    private static string Markdown(JsonObject report, IReadOnlyList<string> classes, bool hasBaseline, IReadOnlyList<(string Title, string File)> plots)
    {
        var md = new StringBuilder();
        var models = report["models"]!;
        var totals = report["totals"]!;
        var latency = report["latency_ms"]!;
        string verdict = report["verdict"]!.GetValue<string>();
        md.AppendLine($"# Fleet validation: {models["new"]!["file"]}{(hasBaseline ? $" against {models["baseline"]!["file"]}" : "")}");
        md.AppendLine();
        md.AppendLine($"**Verdict: {verdict.ToUpperInvariant()}**{(report["complete"]!.GetValue<bool>() ? "" : " (interrupted: only the drives listed below were played)")} — " +
            $"{totals["drives"]} of {report["drives_listed"]} drives, {totals["frames"]} frames, {totals["drives_failed"]} drive(s) not read to the end.");
        md.AppendLine();
        var gates = report["gates"]!.AsArray();
        if (gates.Count > 0)
        {
            md.AppendLine("| gate | threshold | value | |").AppendLine("|---|---:|---:|---|");
            foreach (var g in gates)
                md.AppendLine($"| {g!["gate"]} | {g["threshold"]} | {g["value"]?.ToJsonString() ?? "–"} | {(g["passed"]!.GetValue<bool>() ? "pass" : "**FAIL**")} |");
            md.AppendLine();
        }
        md.AppendLine("| model | file | sha256 (16) | architecture | size | precision |").AppendLine("|---|---|---|---|---|---|");
        foreach (var (role, m) in models.AsObject())
            md.AppendLine($"| {role} | `{m!["file"]}` | `{m["sha256"]!.GetValue<string>()[..16]}` | {m["architecture"]} | {m["size"]} | {m["precision"]} |");
        md.AppendLine();
        md.AppendLine("## Totals").AppendLine();
        if (hasBaseline) md.AppendLine($"- **Mask agreement** (pixels both models give the same class, compared at the new model's size): {Pct(totals["agreement"])}");
        md.AppendLine($"- **Latency** (preprocess + infer + publish, ms): new p50 {Ms(latency["new"], "p50")} / p95 {Ms(latency["new"], "p95")} / p99 {Ms(latency["new"], "p99")}" +
            (hasBaseline ? $"; baseline p50 {Ms(latency["baseline"], "p50")} / p95 {Ms(latency["baseline"], "p95")} / p99 {Ms(latency["baseline"], "p99")}; " +
                $"ratio of p50s {latency["p50_ratio"]?.ToJsonString() ?? "–"}" : ""));
        if (totals["labelled_frames"]!.GetValue<int>() > 0)
            md.AppendLine($"- **mIoU** over {totals["labelled_frames"]} labelled frames: new {Pct(totals["miou"]!["new"])}" +
                (hasBaseline ? $", baseline {Pct(totals["miou"]!["baseline"])}" : ""));
        md.AppendLine();
        foreach (var (title, file) in plots) md.AppendLine($"![{title}]({file})").AppendLine();
        md.AppendLine("## Drives").AppendLine();
        md.AppendLine("| drive | frames | agreement | worst frame | new p50 ms | baseline p50 ms | mIoU new | mIoU baseline | status |")
            .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var d in report["drives"]!.AsArray())
            md.AppendLine($"| {d!["drive"]} | {d["frames"]} | {Pct(d["agreement"])} | {Pct(d["worst_frame_agreement"])} | {Ms(d["latency_ms"]!["new"], "p50")} | " +
                $"{Ms(d["latency_ms"]!["baseline"], "p50")} | {Pct(d["miou"]!["new"])} | {Pct(d["miou"]!["baseline"])} | {d["status"]} |");
        md.AppendLine();
        md.AppendLine("## Classes").AppendLine();
        md.AppendLine("| class | agreement (IoU of the two masks) | share baseline | share new | drift (pp) | IoU new | IoU baseline |")
            .AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var c in classes)
        {
            var share = totals["class_shares"]![c]!;
            md.AppendLine($"| {c} | {Pct(totals["class_agreement"]?[c], "F1")} | {Pct(share["baseline"], "F2")} | {Pct(share["new"], "F2")} | " +
                $"{share["drift_pp"]?.ToJsonString() ?? "–"} | {Pct(totals["iou"]!["new"]?[c], "F1")} | {Pct(totals["iou"]!["baseline"]?[c], "F1")} |");
        }
        var worst = report["worst_frames"]!.AsArray();
        if (worst.Count > 0)
        {
            md.AppendLine().AppendLine("## Frames the models disagree on most").AppendLine();
            md.AppendLine("Each: baseline | new | pixels where they differ (white).").AppendLine();
            foreach (var w in worst)
                md.AppendLine($"- {w!["drive"]}, frame {w["frame"]}{(w["file"] is { } f ? $" (`{f}`)" : "")}: agreement {Pct(w["agreement"])}").AppendLine()
                  .AppendLine($"  ![{w["drive"]} frame {w["frame"]}]({w["image"]})").AppendLine();
        }
        return md.ToString();
    }

    private static List<(string Title, string File)> Plots(string folder, JsonObject report, IReadOnlyList<DriveResult> results, IReadOnlyList<string> classes,
        bool hasBaseline)
    {
        var plots = new List<(string, string)>();
        var totals = report["totals"]!;
        var baseColour = new Scalar(170, 120, 60);
        var newColour = new Scalar(40, 140, 240);
        void Save(string name, string title, Chart chart)
        {
            AtomicFile.WriteAllBytes(Path.Combine(folder, PlotsFolder, name), chart.Png());
            plots.Add((title, $"{PlotsFolder}/{name}"));
        }
        int rowsHeight = 100 + 18 * classes.Count;
        using (var chart = new Chart(960, rowsHeight))
        {
            var shares = chart.Bars(new Rect(0, 24, hasBaseline ? 620 : 940, rowsHeight - 24), "class share of all mask pixels", classes, 0,
                Chart.Range(classes.SelectMany(c => new[] { totals["class_shares"]![c]!["new"], totals["class_shares"]![c]!["baseline"] })
                    .Where(v => v is not null).Select(v => 100 * v!.GetValue<double>())).Max, "% of pixels");
            for (int c = 0; c < classes.Count; c++)
            {
                var share = totals["class_shares"]![classes[c]]!;
                if (hasBaseline) shares.Bar(c, 0, 100 * share["baseline"]!.GetValue<double>(), baseColour, 0, 2);
                shares.Bar(c, 0, 100 * share["new"]!.GetValue<double>(), newColour, hasBaseline ? 1 : 0, hasBaseline ? 2 : 1);
            }
            if (hasBaseline)
            {
                var agreement = chart.Bars(new Rect(630, 24, 320, rowsHeight - 24), "agreement per class", [.. classes.Select(_ => "")], 0, 100, "IoU of the masks, %");
                for (int c = 0; c < classes.Count; c++)
                    if (totals["class_agreement"]?[classes[c]] is { } v) agreement.Bar(c, 0, 100 * v.GetValue<double>(), new Scalar(90, 160, 90));
                chart.Legend(new Point(8, 4), [("baseline", baseColour), ("new", newColour)], across: true);
            }
            Save("classes.png", "class shares and per-class agreement", chart);
        }
        var drives = results.Select(r => r.Drive).ToList();
        int driveHeight = 100 + 24 * Math.Max(1, drives.Count);
        using (var chart = new Chart(960, driveHeight))
        {
            var latencyMax = Chart.Range(results.SelectMany(r => r.NewLatencyMs.Concat(r.BaselineLatencyMs)).DefaultIfEmpty(1)
                .Select(v => v)).Max;
            var latency = chart.Bars(new Rect(0, 24, hasBaseline ? 620 : 940, driveHeight - 24), "latency per drive: p50 (dark) to p99 (light)", drives, 0,
                latencyMax, "ms (preprocess + infer + publish)");
            for (int d = 0; d < results.Count; d++)
            {
                int slots = hasBaseline ? 2 : 1;
                LatencyBar(latency, d, results[d].NewLatencyMs, newColour, hasBaseline ? 1 : 0, slots);
                if (hasBaseline) LatencyBar(latency, d, results[d].BaselineLatencyMs, baseColour, 0, slots);
            }
            if (hasBaseline)
            {
                chart.Legend(new Point(8, 4), [("baseline", baseColour), ("new", newColour)], across: true);
                var agreement = chart.Bars(new Rect(630, 24, 320, driveHeight - 24), "mask agreement per drive", [.. drives.Select(_ => "")], 0, 100, "% of pixels");
                for (int d = 0; d < results.Count; d++)
                    if (results[d].Agreement is { } a) agreement.Bar(d, 0, 100 * ConfusionMatrix.FromCounts(a).Agreement(), new Scalar(90, 160, 90));
            }
            Save("drives.png", "latency and agreement per drive", chart);
        }
        return plots;
    }

    private static void LatencyBar(ChartPanel panel, int row, List<double> ms, Scalar colour, int slot, int slots)
    {
        if (ms.Count == 0) return;
        var s = LatencySummary.Of(ms);
        panel.Bar(row, 0, s.P50, colour, slot, slots);
        panel.Bar(row, s.P50, s.P99, new Scalar(0.5 * colour.Val0 + 120, 0.5 * colour.Val1 + 120, 0.5 * colour.Val2 + 120), slot, slots);
    }
}
