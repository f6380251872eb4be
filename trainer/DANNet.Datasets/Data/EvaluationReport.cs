using DANNet.Model.IO;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DANNet.Edge.Contracts;
using DANNet.Trainer.IO;

namespace DANNet.Trainer.Data;

/// <summary>Writes an evaluation as <c>iou.json</c> (per-class IoU and mIoU) and <c>confusion.csv</c>.</summary>
public static class EvaluationReport
{
    public static void Write(string dir, EvaluationResult r)
    {
        Directory.CreateDirectory(dir);
        var classes = new JsonObject();
        for (int c = 0; c < r.ClassIoU.Count; c++)
            classes[CityscapesClasses.All[c].Name] = double.IsNaN(r.ClassIoU[c]) ? null : Math.Round(r.ClassIoU[c], 6);
        var json = new JsonObject
        {
            ["set"] = r.Set,
            ["images"] = r.Images,
            ["miou"] = double.IsNaN(r.MeanIoU) ? null : Math.Round(r.MeanIoU, 6),
            ["iou"] = classes,
        };
        AtomicFile.WriteAllText(Path.Combine(dir, "iou.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        AtomicFile.WriteAllText(Path.Combine(dir, "confusion.csv"), r.Confusion.ToCsv());
    }

    /// <summary>A plain-text table of per-class IoU (percent) and mIoU.</summary>
    public static string Table(EvaluationResult r)
    {
        var lines = new List<string> { $"{r.Set}: {r.Images} images, mIoU {Percent(r.MeanIoU)}" };
        for (int c = 0; c < r.ClassIoU.Count; c++)
            lines.Add($"  {CityscapesClasses.All[c].Name,-14} {Percent(r.ClassIoU[c])}");
        return string.Join('\n', lines);
    }

    public static string Percent(double v) => double.IsNaN(v) ? "  n/a" : (100 * v).ToString("F1", CultureInfo.InvariantCulture).PadLeft(5);
}
