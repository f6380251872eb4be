using DANNet.Trainer.Data;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DANNet.Trainer.Training;

/// <summary>
/// Training metrics as JSON lines (<c>metrics.jsonl</c>): one object per logged iteration
/// (<c>{"iteration", "lrGenerator", "lrDiscriminator", "itPerSec", "terms": {...}}</c>) and one per
/// evaluation (<c>{"iteration", "eval": {"set", "miou", "iou": [...]}}</c>). On resume, lines past the
/// checkpoint's iteration are dropped so the log reads as one uninterrupted run.
/// </summary>
public sealed class MetricsLog(string path)
{
    public string Path { get; } = path;

    public void TruncateAfter(long iteration)
    {
        if (!File.Exists(Path)) return;
        var kept = File.ReadAllLines(Path).Where(l => l.Length > 0 && IterationOf(l) <= iteration).ToList();
        DANNet.Model.IO.AtomicFile.WriteAllText(Path, kept.Count == 0 ? "" : string.Join('\n', kept) + "\n");
    }

    public void Append(JsonObject record)
    {
        File.AppendAllText(Path, record.ToJsonString() + "\n");
    }

    public static JsonObject Step(long iteration, double lrGenerator, double lrDiscriminator, double itPerSec, IReadOnlyDictionary<string, double> terms)
    {
        var t = new JsonObject();
        foreach (var (k, v) in terms) t[k] = v;
        return new JsonObject { ["iteration"] = iteration, ["lrGenerator"] = lrGenerator, ["lrDiscriminator"] = lrDiscriminator, ["itPerSec"] = Math.Round(itPerSec, 4), ["terms"] = t };
    }

    public static JsonObject Evaluation(long iteration, Data.EvaluationResult r) => new()
    {
        ["iteration"] = iteration,
        ["eval"] = new JsonObject
        {
            ["set"] = r.Set,
            ["images"] = r.Images,
            ["miou"] = double.IsNaN(r.MeanIoU) ? null : r.MeanIoU,
            ["iou"] = new JsonArray(r.ClassIoU.Select(v => (JsonNode?)(double.IsNaN(v) ? null : JsonValue.Create(v))).ToArray()),
        },
    };

    /// <summary>
    /// Reads back (iteration, term → value) and (iteration, mIoU) series. A damaged last line is a record being written (a run in
    /// progress) or cut by a crash, and is left out; a damaged line before it fails, naming the file and the line.
    /// </summary>
    public (Dictionary<string, List<(long, double)>> Terms, List<(long, double)> MeanIoU) Read()
    {
        var terms = new Dictionary<string, List<(long, double)>>();
        var miou = new List<(long, double)>();
        if (!File.Exists(Path)) return (terms, miou);
        var lines = File.ReadAllLines(Path);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            try
            {
                var node = JsonNode.Parse(lines[i]) as JsonObject ?? throw new FormatException("not a JSON object");
                long it = (node["iteration"] ?? throw new FormatException("no iteration")).GetValue<long>();
                var stepTerms = node["terms"] is JsonObject t
                    ? t.Select(kv => (kv.Key, (kv.Value ?? throw new FormatException($"term '{kv.Key}' is null")).GetValue<double>())).ToList()
                    : [];
                double? m = node["eval"]?["miou"] is JsonValue v ? v.GetValue<double>() : null;
                foreach (var (k, value) in stepTerms)
                {
                    if (!terms.TryGetValue(k, out var list)) terms[k] = list = [];
                    list.Add((it, value));
                }
                if (m is { } mean) miou.Add((it, mean));
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
                if (lines.Skip(i + 1).All(l => l.Length == 0)) break;
                throw new InvalidDataException($"'{Path}' line {i + 1} is not a metrics record ({ex.Message.ReplaceLineEndings(" ")}); " +
                    "the file is written by dannet-train train — restore it or resume the run from a checkpoint, which rewrites it.");
            }
        }
        return (terms, miou);
    }

    private static long IterationOf(string line)
    {
        try { return JsonNode.Parse(line)?["iteration"]?.GetValue<long>() ?? long.MaxValue; }
        catch (JsonException) { return long.MaxValue; }
    }
}
