using DANNet.Model;
using DANNet.Trainer.Data;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DANNet.Calibration.Measurement;

/// <summary>The float model against its int8 copy, measured in one run.</summary>
public sealed record Comparison(
    string FloatPath, string Int8Path, long FloatBytes, long Int8Bytes,
    EvaluationResult? FloatEvaluation, EvaluationResult? Int8Evaluation, MaskAgreement Agreement, string AgreementOn,
    LatencySummary? FloatLatency, LatencySummary? Int8Latency, int Threads)
{
    public double? MeanIoUDrop => FloatEvaluation is null || Int8Evaluation is null ? null : 100 * (FloatEvaluation.MeanIoU - Int8Evaluation.MeanIoU);

    public double? Speedup => FloatLatency is null || Int8Latency is null ? null : FloatLatency.P50 / Int8Latency.P50;
}

/// <summary>The end-of-run summary (a plain table) and the JSON report written next to the int8 model.</summary>
public static class CalibrationReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Table(Comparison c)
    {
        var lines = new List<string> { string.Format(Invariant, "{0,-32} {1,12} {2,12}", "", "float32", "int8") };
        void Row(string what, string f, string q, string note = "") => lines.Add(string.Format(Invariant, "{0,-32} {1,12} {2,12}  {3}", what, f, q, note).TrimEnd());
        Row("size", Mb(c.FloatBytes), Mb(c.Int8Bytes), string.Format(Invariant, "{0:F2}x smaller", (double)c.FloatBytes / c.Int8Bytes));
        if (c.FloatEvaluation is { } fe && c.Int8Evaluation is { } qe)
            Row($"mIoU ({fe.Images} images)", Pct(fe.MeanIoU), Pct(qe.MeanIoU), string.Format(Invariant, "{0:+0.0;-0.0;0.0} points", -c.MeanIoUDrop!.Value));
        Row("mask agreement", "", Pct(c.Agreement.Fraction), string.Format(Invariant, "of pixels, {0}; worst image {1} ({2})",
            c.AgreementOn, Pct(c.Agreement.WorstImage).Trim(), c.Agreement.WorstImageName));
        if (c.FloatLatency is { } fl && c.Int8Latency is { } ql)
        {
            string threads = c.Threads == 0 ? "default threads" : $"{c.Threads} threads";
            Row($"inference p50 (cpu, {threads})", Ms(fl.P50), Ms(ql.P50), string.Format(Invariant, "{0:F2}x faster, {1} runs each, taking turns", c.Speedup, fl.Count));
            Row("inference p90", Ms(fl.P90), Ms(ql.P90));
        }
        return string.Join('\n', lines);
    }

    public static JsonObject Json(Comparison c, string calibration, IReadOnlyList<TensorSensitivity>? sensitivity, IReadOnlyCollection<string> keptFloat)
    {
        JsonObject? Eval(EvaluationResult? r) => r is null ? null : new JsonObject
        {
            ["set"] = r.Set, ["images"] = r.Images, ["miou"] = Round(r.MeanIoU),
            ["iou"] = new JsonObject(Edge.Contracts.CityscapesClasses.All.Select((k, i) =>
                KeyValuePair.Create(k.Name, (JsonNode?)(i < r.ClassIoU.Count ? Round(r.ClassIoU[i]) : null)))),
        };
        JsonObject? Lat(LatencySummary? l) => l is null ? null : new JsonObject
        {
            ["runs"] = l.Count, ["min_ms"] = R3(l.Min), ["mean_ms"] = R3(l.Mean), ["p50_ms"] = R3(l.P50), ["p90_ms"] = R3(l.P90), ["max_ms"] = R3(l.Max),
        };
        return new JsonObject
        {
            ["calibration"] = calibration,
            ["float"] = new JsonObject { ["model"] = c.FloatPath, ["bytes"] = c.FloatBytes, ["evaluation"] = Eval(c.FloatEvaluation), ["latency"] = Lat(c.FloatLatency) },
            ["int8"] = new JsonObject { ["model"] = c.Int8Path, ["bytes"] = c.Int8Bytes, ["evaluation"] = Eval(c.Int8Evaluation), ["latency"] = Lat(c.Int8Latency) },
            ["miou_drop_points"] = c.MeanIoUDrop is { } d ? Math.Round(d, 3) : null,
            ["speedup_p50"] = c.Speedup is { } s ? Math.Round(s, 3) : null,
            ["threads"] = c.Threads,
            ["mask_agreement"] = new JsonObject
            {
                ["on"] = c.AgreementOn, ["pixels"] = c.Agreement.Pixels, ["equal"] = c.Agreement.Equal, ["fraction"] = Round(c.Agreement.Fraction),
                ["worst_image"] = c.Agreement.WorstImageName, ["worst_image_fraction"] = Round(c.Agreement.WorstImage),
            },
            ["kept_float"] = new JsonArray(keptFloat.Select(k => (JsonNode?)k).ToArray()),
            ["sensitivity"] = sensitivity is null ? null : new JsonArray(sensitivity.Select(t => (JsonNode?)new JsonObject
            {
                ["tensor"] = t.Tensor, ["role"] = t.Role.ToString(), ["changed_pixels"] = Math.Round(t.ChangedPixels, 7),
            }).ToArray()),
        };
    }

    public static string Serialize(JsonObject json) => json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    private static double? Round(double v) => double.IsNaN(v) ? null : Math.Round(v, 6);

    private static double R3(double v) => Math.Round(v, 3);

    private static string Pct(double v) => double.IsNaN(v) ? "n/a" : (100 * v).ToString("F2", Invariant) + " %";

    private static string Ms(double v) => v.ToString("F1", Invariant) + " ms";

    private static string Mb(long bytes) => (bytes / 1e6).ToString("F1", Invariant) + " MB";
}
